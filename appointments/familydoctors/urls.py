from django.urls import path

from appointments.familydoctors import views

# Mounted at /me/family-doctor/: the family's side.
urlpatterns = [
    path("", views.family_doctor, name="family_doctor"),
    path("<uuid:signing_id>/cancel/", views.family_signing_cancel, name="family_signing_cancel"),
]
