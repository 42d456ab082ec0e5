"""FHIR R4 resources built as plain dicts from our rows (no FHIR library at run time; the
tests validate every builder's output with `fhir.resources.R4B`).

Every builder takes rows already loaded by the caller (see portal/fhir/selectors.py) and
runs no query of its own. Ids: hospitals, doctors and slots are public directory data and use
their primary keys; a Schedule is `<doctor>-<site>`; people and clinical rows use their
unguessable `public_id`; an appointment its code (as in /appointments/<code>/).

One module per kind of resource; every public name is re-exported here, so
`from portal.fhir import resources as fhir` and `fhir.bundle(...)` keep working.
"""

from portal.fhir.resources.base import (
    ALLERGY_CLINICAL,
    APPOINTMENT_STATUS,
    APPOINTMENT_STATUS_FROM_FHIR,
    CONDITION_CATEGORY,
    CONDITION_CLINICAL,
    FHIR_JSON,
    FHIR_VERSION,
    ICD10,
    LOINC,
    REFERRAL_STATUS,
    SLOT_STATUSES,
    V2_IDENTIFIER_TYPE,
    V3_ACT_CODE,
    bundle,
    capability_statement,
    clean,
    instant,
    operation_outcome,
    reference,
    system,
    text_concept,
)
from portal.fhir.resources.communication import communication
from portal.fhir.resources.directory import (
    location,
    organization,
    practitioner,
    schedule,
    schedule_id,
    slot,
    slot_status,
)
from portal.fhir.resources.family import care_team, episode_of_care
from portal.fhir.resources.people import appointment, patient, service_request
from portal.fhir.resources.record import (
    addendum_document,
    allergy_intolerance,
    condition,
    encounter,
    medication_requests,
    note_document,
    renewal_proposals,
)
from portal.fhir.resources.results import (
    KIND_FROM_SECTION,
    diagnostic_report,
    exam_resources,
    observation,
)

__all__ = [
    "ALLERGY_CLINICAL",
    "APPOINTMENT_STATUS",
    "APPOINTMENT_STATUS_FROM_FHIR",
    "CONDITION_CATEGORY",
    "CONDITION_CLINICAL",
    "FHIR_JSON",
    "FHIR_VERSION",
    "ICD10",
    "KIND_FROM_SECTION",
    "LOINC",
    "REFERRAL_STATUS",
    "SLOT_STATUSES",
    "V2_IDENTIFIER_TYPE",
    "V3_ACT_CODE",
    "addendum_document",
    "allergy_intolerance",
    "appointment",
    "bundle",
    "capability_statement",
    "care_team",
    "clean",
    "communication",
    "condition",
    "diagnostic_report",
    "encounter",
    "episode_of_care",
    "exam_resources",
    "instant",
    "location",
    "medication_requests",
    "note_document",
    "observation",
    "operation_outcome",
    "organization",
    "patient",
    "practitioner",
    "reference",
    "renewal_proposals",
    "schedule",
    "schedule_id",
    "service_request",
    "slot",
    "slot_status",
    "system",
    "text_concept",
]
