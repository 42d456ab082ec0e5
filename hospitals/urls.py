from django.urls import path

from hospitals import views

urlpatterns = [
    path("hospitals/", views.hospital_list, name="hospital_list"),
    path("hospitals/<slug:slug>/", views.hospital_detail, name="hospital_detail"),
    path(
        "hospitals/<slug:slug>/<slug:department_slug>/",
        views.department_detail,
        name="department_detail",
    ),
]
