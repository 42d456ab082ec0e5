"""The FHIR R4 API under /fhir/ (DESIGN.md §4) and the patient's record export.

Public: metadata, Organization, Location, Practitioner, Schedule, Slot. Authenticated (the
site's session, or a personal access token sent as `Authorization: Bearer …`): Appointment
(the account's own; POST books through `appointment_book`), Patient (linked) and
Patient/<id>/$everything (through records.access). Every answer is `application/fhir+json`;
every error an OperationOutcome; a foreign or unknown id is a 404 that says no more.

One module per group of endpoints (endpoint.py holds what they share); every view is
re-exported here, so `from portal.fhir import views` and `views.record_export` keep working.
"""

from portal.fhir.views.appointments import appointment_collection, appointment_read
from portal.fhir.views.directory import (
    location_read,
    metadata,
    organization_read,
    organization_search,
    practitioner_read,
    practitioner_search,
    schedule_read,
    schedule_search,
    slot_read,
    slot_search,
)
from portal.fhir.views.endpoint import FhirError, fhir_endpoint, fhir_response, not_found
from portal.fhir.views.patients import (
    everything_bundle,
    patient_everything,
    patient_read,
    patient_search,
    record_export,
)

__all__ = [
    "FhirError",
    "appointment_collection",
    "appointment_read",
    "everything_bundle",
    "fhir_endpoint",
    "fhir_response",
    "location_read",
    "metadata",
    "not_found",
    "organization_read",
    "organization_search",
    "patient_everything",
    "patient_read",
    "patient_search",
    "practitioner_read",
    "practitioner_search",
    "record_export",
    "schedule_read",
    "schedule_search",
    "slot_read",
    "slot_search",
]
