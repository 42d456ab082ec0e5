from django.urls import path

from telemedicine import views, views_remote

urlpatterns = [
    path("doctor/", views.doctor_day_view, name="doctor_day"),
    path("doctor/visit/<str:code>/", views.doctor_visit, name="doctor_visit"),
    path(
        "doctor/visit/<str:code>/workspace/",
        views.doctor_visit_workspace,
        name="doctor_visit_workspace",
    ),
    path(
        "doctor/visit/<str:code>/complete/",
        views.doctor_visit_complete,
        name="doctor_visit_complete",
    ),
    path(
        "doctor/visit/<str:code>/remote-consultation/",
        views_remote.remote_consultation_new,
        name="remote_consultation_new",
    ),
    path("doctor/call-next/", views.doctor_call_next, name="doctor_call_next"),
    path("consult/<str:public_id>/", views.consult_room, name="consult_room"),
    path("consult/<str:public_id>/ice-servers", views.consult_ice_servers, name="consult_ice"),
]
