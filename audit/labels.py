"""What each action code of the trail says to a person, in both languages.

The trail stores stable codes (`slots.generate`, `schedule_rule.create`); pages that show a
history (a doctor's in the console, an appointment's) read them here as sentences, filled from
the event's `data` where it helps ("12 new slots"). Every code an app writes has a sentence:
tests/audit/test_action_labels.py finds the codes in the source and checks.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

ACTION_SENTENCES = {
    # The directory (hospitals)
    "department.create": _("Department added"),
    "department.update": _("Department details changed"),
    "department.deactivate": _("Department deactivated"),
    "doctor.create": _("Doctor added to the directory"),
    "doctor.update": _("Doctor's details changed"),
    "doctor.deactivate": _("Doctor deactivated"),
    "doctor.invite": _("Invited by e-mail to an account"),
    # The rota and the slots (appointments)
    "schedule_rule.create": _("Rota session added: %(weekday)s %(start_time)s–%(end_time)s"),
    "schedule_rule.update": _("Rota session changed"),
    "schedule_rule.delete": _("Rota session removed: %(weekday)s %(start_time)s–%(end_time)s"),
    "slots.generate": _(
        "Rota published for %(start)s – %(end)s: %(created)s new slots, "
        "%(removed_unbooked)s free slots removed"
    ),
    "closure.create": _("Clinic stopped (%(reason)s): %(slots_closed)s slots closed"),
    "hold.create": _("A place was held during booking"),
    "hold.release": _("A held place was given back"),
    "hold.expire": _("A held place expired"),
    "appointment.book": _("Booked"),
    "appointment.booked": _("Booked"),
    "appointment.checked_in": _("Checked in"),
    "appointment.in_consult": _("Consultation started"),
    "appointment.completed": _("Completed"),
    "appointment.cancelled": _("Cancelled"),
    "appointment.no_show": _("Marked as not attended"),
    "appointment.called": _("Called in by the doctor"),
    "appointment.cancel": _("Cancelled"),
    "waitlist.join": _("Joined the waiting list"),
    "waitlist.leave": _("Left the waiting list"),
    "waitlist.promote": _("Booked from the waiting list"),
    "calendar_token.issue": _("Calendar feed link created"),
    "calendar_token.revoke": _("Calendar feed link revoked"),
    "export.day_csv": _("Day list downloaded as CSV"),
    # Consults (telemedicine)
    "consultation.create": _("Consult room created"),
    "consultation.join": _("Joined the consult room"),
    "consultation.admit": _("Patient admitted to the consult"),
    "consultation.video_connected": _("Video connected"),
    "consultation.chat": _("Chat message sent"),
    "consultation.end": _("Consult ended"),
    "consultation.expire": _("Consult room closed on its own"),
    "consultation.remote_request": _("Remote consultation with a specialist requested"),
    "text_consult.offer": _("Text consult settings changed"),
    "text_consult.open": _("Text consult asked"),
    "text_consult.message": _("Message written in a text consult"),
    "text_consult.ask_to_book": _("Asked the family to book a visit from a text consult"),
    "text_consult.close": _("Text consult closed"),
    # People and the record (records)
    "patient.add": _("Person added"),
    "patient.update": _("Person's details changed"),
    "patient.remove": _("Person removed from the account"),
    "patient.claim_self": _("Took over their own record"),
    "patient.reencrypt_id_numbers": _("ID numbers re-encrypted with a new key"),
    "patient_link.revoke": _("Access for an account revoked"),
    "invitation.create": _("Second guardian invited"),
    "invitation.accept": _("Invitation accepted"),
    "invitation.decline": _("Invitation declined"),
    "invitation.revoke": _("Invitation withdrawn"),
    "consent.give": _("Consent given"),
    "consent.revoke": _("Consent withdrawn"),
    "care_relationship.grant": _("Access to the record granted"),
    "care_relationship.extend": _("Access to the record extended"),
    "care_relationship.end": _("Access to the record ended"),
    "care_relationship.revoke": _("Access to the record revoked"),
    "record.read": _("Record read"),
    "record.export": _("Record downloaded"),
    "record.break_glass": _("Emergency access to the record"),
    # Family doctors (familydoctors, issue 20)
    "family_team.create": _("Family-doctor team created"),
    "family_team.update": _("Family-doctor team changed"),
    "family_signing.sign": _("Signed with a family-doctor team until %(until)s"),
    "family_signing.cancel": _("Family-doctor signing cancelled"),
    "family_signing.book": _("Visit %(appointment)s booked by the family-doctor team"),
    "followup_plan.create": _("Follow-up plan: every %(every_months)s months"),
    "followup_task.done": _("Follow-up due %(due)s done"),
    "followup_task.remind": _("Family reminded of the follow-up due %(due)s"),
    "record.break_glass_search": _("Emergency search for a record"),
    "encounter.open": _("Visit opened"),
    "encounter.close": _("Visit closed"),
    "note.create": _("Note started"),
    "note.update": _("Note draft changed"),
    "note.sign": _("Note signed"),
    "note.addendum": _("Addendum added to a note"),
    "prescription.create": _("Prescription started"),
    "prescription.update": _("Prescription draft changed"),
    "prescription.sign": _("Prescription signed"),
    "allergy.add": _("Allergy recorded"),
    "allergy.remove": _("Allergy removed"),
    "problem.add": _("Problem recorded"),
    "problem.resolve": _("Problem resolved"),
    "referral.issue": _("Referral issued"),
    "referral.cancel": _("Referral cancelled"),
    "referral.complete": _("Referral completed"),
    "referral.expire": _("Referral expired"),
    "attachment.add": _("File attached"),
    "encounter.participant": _("Took part in a remote consultation"),
    "exam.record": _("Exam recorded"),
    "exam.send": _("Exam sent for a specialist's reading"),
    "exam.claim": _("Exam taken for reading"),
    "exam.sign": _("Exam report signed"),
    "exam.import": _("Exam results received from the clinic's system"),
    "fhir.transaction": _("Results written by a clinic's system"),
    # Repeat prescriptions (issue 20)
    "problem.chronic": _("Problem marked chronic"),
    "problem.not_chronic": _("Chronic mark taken off a problem"),
    "renewal.request": _("Repeat prescription requested"),
    "renewal.approve": _("Repeat prescription renewed and signed"),
    "renewal.change": _("Repeat prescription changed and signed"),
    "renewal.decline": _("Repeat prescription declined: a visit was asked for"),
    # Accounts, the inbox and the site
    "access_token.create": _("Access token created"),
    "access_token.revoke": _("Access token revoked"),
    "account.message_channels": _("Message channels chosen"),
    "notification.read": _("Message read"),
    "notification.read_all": _("All messages marked as read"),
    "access.denied": _("Access refused"),
}


def _filled(data: dict[str, Any]) -> defaultdict:
    values: defaultdict = defaultdict(lambda: "—")
    for key, value in (data or {}).items():
        values[key] = value if value not in (None, "") else "—"
    values.setdefault("created", 0)
    values.setdefault("removed_unbooked", 0)
    if isinstance(values.get("weekday"), int) and values["weekday"] in WEEKDAYS:
        values["weekday"] = WEEKDAYS[values["weekday"]]
    return values


def action_sentence(action: str, data: dict[str, Any] | None = None) -> str:
    """The event as a sentence in the active language; an unknown code reads as itself."""
    sentence = ACTION_SENTENCES.get(action)
    if sentence is None:
        return action
    return str(sentence) % _filled(data or {})


def actor_name(label: str) -> str:
    """Who acted: the stored label, or "the system" for the worker and commands."""
    return gettext("System") if label in ("", "system") else label


# The fields a change names in data["changes"] that are not the target model's own (a rota
# line's, on the doctor's history).
CHANGED_FIELD_NAMES = {
    "site": _("site"),
    "weekday": _("weekday"),
    "start_time": _("start"),
    "end_time": _("end"),
    "slot_minutes": _("minutes per slot"),
    "public_places": _("public places"),
    "referral_places": _("referral places"),
    "mode": _("how"),
    "fee": _("fee"),
    "valid_from": _("valid from"),
    "valid_until": _("valid until"),
}
