"""People: who receives care (Patient), which accounts act for them (PatientLink), what they
agreed to (Consent), who was invited to help (GuardianInvitation), and which staff may read their
record and why (CareRelationship). DESIGN.md §3 "People and the shared record".

One module per concept; every model and public name is re-exported here, so
`from records.models import Patient` keeps working and Django finds the models.
"""

# Imported in the order the models were declared before the split, so the app registry (and
# everything that walks it) sees the same order.
# isort: off
from records.models.people import (
    ADULT_AGE,
    AGE_ZONE,
    CHILD_CONSENT_AGE,
    LiveLinkQuerySet,
    Patient,
    PatientLink,
    Relationship,
    Sex,
    age_on,
    names_match,
    today_in_city,
)
from records.models.consents import (
    CONSENT_SUMMARIES,
    CONSENT_TEXT_VERSIONS,
    Consent,
    ConsentBehalf,
    ConsentKind,
    GuardianInvitation,
)
from records.models.care import CareRelationship, Referral
from records.models.clinical import (
    EncounterParticipant,
    ICD10_PATTERN,
    Allergy,
    ClinicalNote,
    Drug,
    Encounter,
    NoteAddendum,
    Prescription,
    PrescriptionItem,
    Problem,
    chronic_condition,
    icd10_is_chronic,
)
from records.models.attachments import Attachment, attachment_path
from records.models.results import Exam, Observation
from records.models.renewals import RenewalRequest
# isort: on

__all__ = [
    "ADULT_AGE",
    "AGE_ZONE",
    "CHILD_CONSENT_AGE",
    "CONSENT_SUMMARIES",
    "CONSENT_TEXT_VERSIONS",
    "ICD10_PATTERN",
    "Allergy",
    "Attachment",
    "CareRelationship",
    "ClinicalNote",
    "Consent",
    "ConsentBehalf",
    "ConsentKind",
    "Drug",
    "Encounter",
    "EncounterParticipant",
    "Exam",
    "GuardianInvitation",
    "LiveLinkQuerySet",
    "NoteAddendum",
    "Observation",
    "Patient",
    "PatientLink",
    "Prescription",
    "PrescriptionItem",
    "Problem",
    "Referral",
    "Relationship",
    "RenewalRequest",
    "Sex",
    "age_on",
    "attachment_path",
    "chronic_condition",
    "icd10_is_chronic",
    "names_match",
    "today_in_city",
]
