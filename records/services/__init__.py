"""The verbs that change the records app: people, links, consents, invitations and care
relationships; and the clinical record (issue 8): encounters, notes and addenda, allergies and
problems, prescriptions, referrals issued from an encounter.

Each verb is one transaction with keyword-only arguments and writes an AuditEvent (never with
clinical text in it). Refusals are ValidationErrors with a message a person can act on (the
clinical ones `records.errors.ClinicalRefused`); nothing is half-saved.

One module per concept. Code in other apps imports the verbs from this package
(`from records.services import encounter_open`); code inside records imports them from their
module, so this file never takes part in an import cycle. The helpers the modules share
(`account_lock`, `patient_link_require`, `encounter_require_writable`, …) are not re-exported:
they are for records itself.
"""

from records.errors import ClinicalRefused
from records.services.care import (
    care_relationship_end,
    care_relationship_grant,
    care_relationship_revoke,
)
from records.services.consents import consent_behalf_for, consent_give, consent_revoke
from records.services.encounters import (
    AFTER_CARE,
    OPEN_ENCOUNTER_GRANT,
    encounter_close,
    encounter_open,
    encounter_participant_add,
)
from records.services.history import (
    allergy_add,
    allergy_remove,
    problem_add,
    problem_mark_chronic,
    problem_resolve,
)
from records.services.invitations import (
    invitation_accept,
    invitation_create,
    invitation_decline,
    invitation_find,
    invitation_revoke,
)
from records.services.keys import id_numbers_reencrypt
from records.services.links import TOO_MANY_PEOPLE, link_revoke
from records.services.notes import NOTE_FIELDS, note_addendum_add, note_save, note_sign
from records.services.people import (
    ALREADY_REGISTERED,
    DETAILS_MISMATCH,
    HAS_FUTURE_APPOINTMENTS,
    patient_add,
    patient_claim_self,
    patient_remove,
    patient_update,
)
from records.services.prescriptions import prescription_save, prescription_sign
from records.services.referrals import (
    expire_referrals,
    referral_cancel,
    referral_complete,
    referral_issue,
    referral_valid_days,
)
from records.services.renewals import (
    renewal_approve,
    renewal_decline,
    renewal_request,
)
from records.services.results import (
    exam_claim,
    exam_import,
    exam_record,
    exam_send,
    exam_sign,
)

__all__ = [
    "AFTER_CARE",
    "ALREADY_REGISTERED",
    "DETAILS_MISMATCH",
    "HAS_FUTURE_APPOINTMENTS",
    "NOTE_FIELDS",
    "OPEN_ENCOUNTER_GRANT",
    "TOO_MANY_PEOPLE",
    "ClinicalRefused",
    "allergy_add",
    "allergy_remove",
    "care_relationship_end",
    "care_relationship_grant",
    "care_relationship_revoke",
    "consent_behalf_for",
    "consent_give",
    "consent_revoke",
    "encounter_close",
    "encounter_open",
    "encounter_participant_add",
    "exam_claim",
    "exam_import",
    "exam_record",
    "exam_send",
    "exam_sign",
    "expire_referrals",
    "id_numbers_reencrypt",
    "invitation_accept",
    "invitation_create",
    "invitation_decline",
    "invitation_find",
    "invitation_revoke",
    "link_revoke",
    "note_addendum_add",
    "note_save",
    "note_sign",
    "patient_add",
    "patient_claim_self",
    "patient_remove",
    "patient_update",
    "prescription_save",
    "prescription_sign",
    "problem_add",
    "problem_mark_chronic",
    "problem_resolve",
    "referral_cancel",
    "referral_complete",
    "referral_issue",
    "referral_valid_days",
    "renewal_approve",
    "renewal_decline",
    "renewal_request",
]
