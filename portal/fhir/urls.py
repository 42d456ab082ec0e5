from django.urls import path, re_path

from portal.fhir.views import appointments, directory, endpoint, patients, results

# Mounted at /fhir/. Ids are matched loosely here and checked in the views, so a malformed id
# is the same 404 OperationOutcome as an unknown one.
urlpatterns = [
    # A clinic system's transaction Bundle (a DiagnosticReport and its Observations).
    path("", results.transaction, name="fhir_transaction"),
    path("metadata", directory.metadata, name="fhir_metadata"),
    path("Organization", directory.organization_search, name="fhir_organization_search"),
    path("Organization/<str:resource_id>", directory.organization_read, name="fhir_organization"),
    path("Location/<str:resource_id>", directory.location_read, name="fhir_location"),
    path("Practitioner", directory.practitioner_search, name="fhir_practitioner_search"),
    path("Practitioner/<str:resource_id>", directory.practitioner_read, name="fhir_practitioner"),
    path("Schedule", directory.schedule_search, name="fhir_schedule_search"),
    path("Schedule/<str:resource_id>", directory.schedule_read, name="fhir_schedule"),
    path("Slot", directory.slot_search, name="fhir_slot_search"),
    path("Slot/<str:resource_id>", directory.slot_read, name="fhir_slot"),
    path("Appointment", appointments.appointment_collection, name="fhir_appointments"),
    path("Appointment/<str:resource_id>", appointments.appointment_read, name="fhir_appointment"),
    path("Patient", patients.patient_search, name="fhir_patient_search"),
    path("Patient/<str:resource_id>", patients.patient_read, name="fhir_patient"),
    path(
        "Patient/<str:resource_id>/$everything",
        patients.patient_everything,
        name="fhir_patient_everything",
    ),
    path(
        "DiagnosticReport",
        results.diagnostic_report_search,
        name="fhir_diagnostic_report_search",
    ),
    path(
        "DiagnosticReport/<str:resource_id>",
        results.diagnostic_report_read,
        name="fhir_diagnostic_report",
    ),
    path("Observation", results.observation_search, name="fhir_observation_search"),
    path("Observation/<str:resource_id>", results.observation_read, name="fhir_observation"),
    re_path(r"^(?P<rest>.*)$", endpoint.not_found),
]
