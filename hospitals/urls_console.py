from django.urls import path

from hospitals import views_console as views

urlpatterns = [
    path("", views.manage_index, name="manage"),
    path("<slug:hospital_slug>/", views.hospital_dashboard, name="console_hospital"),
    path("<slug:hospital_slug>/departments/", views.department_list, name="console_departments"),
    path(
        "<slug:hospital_slug>/departments/add/",
        views.department_add,
        name="console_department_add",
    ),
    path(
        "<slug:hospital_slug>/departments/<int:department_id>/edit/",
        views.department_edit,
        name="console_department_edit",
    ),
    path(
        "<slug:hospital_slug>/departments/<int:department_id>/deactivate/",
        views.department_deactivate,
        name="console_department_deactivate",
    ),
    path("<slug:hospital_slug>/doctors/", views.doctor_list, name="console_doctors"),
    path("<slug:hospital_slug>/doctors/add/", views.doctor_add, name="console_doctor_add"),
    path(
        "<slug:hospital_slug>/doctors/<int:doctor_id>/", views.doctor_detail, name="console_doctor"
    ),
    path(
        "<slug:hospital_slug>/doctors/<int:doctor_id>/edit/",
        views.doctor_edit,
        name="console_doctor_edit",
    ),
    path(
        "<slug:hospital_slug>/doctors/<int:doctor_id>/deactivate/",
        views.doctor_deactivate,
        name="console_doctor_deactivate",
    ),
    path(
        "<slug:hospital_slug>/doctors/<int:doctor_id>/invite/",
        views.doctor_invite,
        name="console_doctor_invite",
    ),
]
