"""Remote consultation (远程会诊, issue 15): the clinic doctor of a visit going on calls in a
cloud hospital specialist for the patient of that visit.

The booking is an ordinary `appointment_book` on the specialist's remote-consultation period
(`on_visit=` the clinic visit): one place taken by the conditional UPDATE, the patient's rules
and caps (never the doctor's account's), the specialist's care relationship to the record
granted with the appointment as its source (so it ends as every booking's does), and the room
created by `consultation_create_for_booking`. This verb then writes who asked what into the
room, in the same transaction: a refusal leaves nothing behind.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from appointments.models import Appointment, Slot
from appointments.services import appointment_book
from audit.services import audit_record
from telemedicine.models import Consultation
from telemedicine.services import ConsultRefused

QUESTION_MAX_CHARS = 4000


class QuestionNeeded(ConsultRefused):
    code = "question"
    message = _("Write the question for the specialist (at most 4,000 characters).")


class VisitHasNoRecord(ConsultRefused):
    code = "no_encounter"
    message = _("The visit has no open record yet: check the patient in first.")


def remote_consultation_book(
    *,
    visit: Appointment,
    slot: Slot,
    by: Any,
    question: str,
    invite_patient: bool = False,
    idempotency_key: str | None = None,
) -> Consultation:
    """Book `slot` (a remote-consultation period) for the patient of `visit`, asked by `by`,
    the visit's doctor. Raises `ConsultRefused` or a `BookingRefused`; nothing is written then.
    The same idempotency key returns the same consultation."""
    question = (question or "").strip()
    if not question or len(question) > QUESTION_MAX_CHARS:
        raise QuestionNeeded()
    if visit.encounter_id is None:
        raise VisitHasNoRecord()
    with transaction.atomic():
        appointment = appointment_book(
            patient=visit.patient,
            slot=slot,
            booked_by=by,
            idempotency_key=idempotency_key,
            on_visit=visit,
        )
        consultation = Consultation.objects.select_for_update().get(appointment=appointment)
        if consultation.gp_id is not None:  # the same request again: already written
            return consultation
        consultation.gp = by
        consultation.requested_in_id = visit.encounter_id
        consultation.question = question
        consultation.patient_invited = bool(invite_patient)
        consultation.save(update_fields=["gp", "requested_in", "question", "patient_invited"])
        audit_record(
            actor=by,
            action="consultation.remote_request",
            target=consultation,
            on_behalf_of=visit.patient,
            data={"visit": visit.code, "slot": slot.pk, "patient_invited": bool(invite_patient)},
        )
    return consultation
