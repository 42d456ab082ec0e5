from django.urls import path, re_path

from portal.fhir import views

# Mounted at /fhir/. Ids are matched loosely here and checked in the views, so a malformed id
# is the same 404 OperationOutcome as an unknown one.
urlpatterns = [
    path("metadata", views.metadata, name="fhir_metadata"),
    path("Organization", views.organization_search, name="fhir_organization_search"),
    path("Organization/<str:resource_id>", views.organization_read, name="fhir_organization"),
    path("Location/<str:resource_id>", views.location_read, name="fhir_location"),
    path("Practitioner", views.practitioner_search, name="fhir_practitioner_search"),
    path("Practitioner/<str:resource_id>", views.practitioner_read, name="fhir_practitioner"),
    path("Schedule", views.schedule_search, name="fhir_schedule_search"),
    path("Schedule/<str:resource_id>", views.schedule_read, name="fhir_schedule"),
    path("Slot", views.slot_search, name="fhir_slot_search"),
    path("Slot/<str:resource_id>", views.slot_read, name="fhir_slot"),
    path("Appointment", views.appointment_collection, name="fhir_appointments"),
    path("Appointment/<str:resource_id>", views.appointment_read, name="fhir_appointment"),
    path("Patient", views.patient_search, name="fhir_patient_search"),
    path("Patient/<str:resource_id>", views.patient_read, name="fhir_patient"),
    path(
        "Patient/<str:resource_id>/$everything",
        views.patient_everything,
        name="fhir_patient_everything",
    ),
    re_path(r"^(?P<rest>.*)$", views.not_found),
]
