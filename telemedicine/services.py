"""Consult state changes (STYLE.md: `<entity>_<action>(*, ...)`, one transaction each, every one
audited). The socket (telemedicine/consumers.py) and the pages call these and nothing else."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.errors import BookingRefused
from appointments.models import Appointment
from appointments.services import (
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_lock,
    appointment_mark_no_show,
    appointment_start_consult,
)
from audit.services import audit_record
from records.models import EncounterParticipant
from records.services import encounter_participant_add
from telemedicine.models import CHAT_MAX_CHARS, ChatMessage, Consultation
from telemedicine.selectors import (
    GP,
    HOSTS,
    PATIENT,
    consultation_role,
    participant_name,
    telemedicine_consent_given,
)

logger = logging.getLogger(__name__)


class ConsultRefused(Exception):
    """A consult action the rules refuse; `code` is stable for the socket's `error`."""

    code = "refused"
    message = _("This cannot be done in this consult.")

    def __init__(self, message: Any = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.code)


class NotYetOpen(ConsultRefused):
    code = "not_open"
    message = _("The consult room is not open yet. It opens shortly before your appointment.")


class ConsultClosed(ConsultRefused):
    code = "closed"
    message = _("This consult has ended.")


class DoctorOnly(ConsultRefused):
    code = "forbidden"
    message = _("Only the doctor can do that.")


class NotAllowed(ConsultRefused):
    code = "forbidden"
    message = _("You cannot open this consult.")


class ConsentNeeded(ConsultRefused):
    code = "consent"
    message = _(
        "A consult by video needs the telemedicine consent for this person. Give it on the "
        "consult page, then join again."
    )


class BadChat(ConsultRefused):
    code = "invalid"
    message = _("Write a message of at most 2,000 characters.")


def _opens_before() -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, "CONSULT_OPENS_MINUTES_BEFORE", 15)))


def _closes_after() -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, "CONSULT_AUTO_CLOSE_MINUTES_AFTER", 30)))


def _lock(
    consultation: Consultation, *, appointment: bool = False, slot: bool = False
) -> Consultation:
    """Lock the consultation's row. A verb that moves the appointment (`appointment=True`), or
    may cancel it and so free its slot's place (`slot=True`), locks those rows first: the lock
    order is Slot → Appointment → Consultation → Encounter (appointments.services), the one
    the cancel path takes before its receiver ends the consult here."""
    if appointment or slot:
        appointment_id = Consultation.objects.values_list("appointment_id", flat=True).get(
            pk=consultation.pk
        )
        appointment_lock(appointment=Appointment(pk=appointment_id), slot=slot)
    return (
        Consultation.objects.select_for_update(of=("self",))
        .select_related("appointment", "appointment__slot", "appointment__slot__doctor")
        .get(pk=consultation.pk)
    )


def _role_or_refuse(consultation: Consultation, account: Any) -> str:
    role = consultation_role(consultation=consultation, account=account)
    if role is None:
        raise NotAllowed()
    return role


def _audit(consultation: Consultation, *, by: Any, action: str, **data: Any) -> None:
    audit_record(
        actor=by,
        action=f"consultation.{action}",
        target=consultation,
        on_behalf_of=consultation.appointment.patient,
        data=data or None,
    )


def _appointment_step(service, consultation: Consultation, *, by: Any) -> None:
    """Move the appointment along its status machine (which also opens and closes the visit's
    encounter). A refused step (taken already, or not legal from the current status: a room
    that opens before the slot's local day cannot check in) does not refuse the consult; it is
    logged with its code."""
    try:
        service(appointment=consultation.appointment, by=by)
    except BookingRefused as refusal:
        logger.warning(
            "consult %s: %s refused (%s) for appointment %s",
            consultation.public_id,
            service.__name__,
            refusal.code,
            consultation.appointment_id,
        )
    consultation.appointment.refresh_from_db(
        fields=["status", "checked_in_at", "ended_at", "encounter"]
    )


# --- Receivers of appointments.signals (connected in TelemedicineConfig.ready) ---------------


def consultation_create_for_booking(
    sender: Any, *, appointment: Appointment, by: Any = None, **kwargs: Any
) -> None:
    """Inside the booking's transaction: an online appointment gets its room."""
    slot = appointment.slot
    if slot.mode not in ("online", "remote"):
        return
    consultation = Consultation.objects.create(
        appointment=appointment,
        opens_at=slot.start - _opens_before(),
        closes_at=slot.end + _closes_after(),
    )
    _audit(consultation, by=by, action="create")


def consultation_end_for_cancellation(
    sender: Any, *, appointment: Appointment, by: Any = None, reason: str = "", **kwargs: Any
) -> None:
    """Inside the cancel's transaction, which holds the slot's and the appointment's locks."""
    consultation = Consultation.objects.filter(appointment=appointment).first()
    if consultation is None or consultation.is_ended:
        return
    consultation = _lock(consultation)
    consultation.status = Consultation.Status.ENDED
    consultation.ended_at = timezone.now()
    consultation.ended_by = by if getattr(by, "is_authenticated", False) else None
    if not consultation.outcome:
        consultation.outcome = Consultation.Outcome.CANCELLED
    consultation.save(update_fields=["status", "ended_at", "ended_by", "outcome"])
    _audit(consultation, by=by, action="end", why=f"appointment cancelled ({reason})")


# --- The room -------------------------------------------------------------------------------


def consultation_join(*, consultation: Consultation, account: Any) -> tuple[Consultation, str]:
    """An account enters the room. The patient's first join checks the appointment in and puts
    them in the waiting room; the doctor's is recorded. Returns the consult and the role.
    Locks the appointment, then the consultation (the check-in moves the appointment)."""
    now = timezone.now()
    with transaction.atomic():
        consultation = _lock(consultation, appointment=True)
        role = _role_or_refuse(consultation, account)
        if consultation.is_ended or now >= consultation.closes_at:
            raise ConsultClosed()
        if now < consultation.opens_at:
            raise NotYetOpen()
        # Read at every join, so a consent withdrawn a moment ago already counts.
        if role == PATIENT and not telemedicine_consent_given(consultation=consultation):
            raise ConsentNeeded()
        fields = []
        if role == PATIENT:
            if consultation.patient_joined_at is None:
                consultation.patient_joined_at = now
                consultation.patient_joined_by = account
                fields += ["patient_joined_at", "patient_joined_by"]
            if consultation.status == Consultation.Status.SCHEDULED:
                consultation.status = Consultation.Status.WAITING
                fields.append("status")
        elif role == GP:
            if consultation.gp_joined_at is None:
                consultation.gp_joined_at = now
                fields.append("gp_joined_at")
        elif consultation.doctor_joined_at is None:
            consultation.doctor_joined_at = now
            fields.append("doctor_joined_at")
        if fields:
            consultation.save(update_fields=fields)
        # Every join, not only the first: who entered the room, and when.
        _audit(consultation, by=account, action="join", role=role)
        # A remote consultation's appointment has no check-in: the specialist starts it.
        if (
            role == PATIENT
            and not consultation.is_remote
            and consultation.appointment.status == Appointment.Status.BOOKED
        ):
            _appointment_step(appointment_check_in, consultation, by=account)
        _participants_record(consultation)
    return consultation, role


# Who took part in a remote consultation, as the record keeps it (records' own roles).
_RECORD_ROLES = {
    "specialist": EncounterParticipant.Role.SPECIALIST,
    GP: EncounterParticipant.Role.GP,
    PATIENT: EncounterParticipant.Role.PATIENT,
}


def _participants_record(consultation: Consultation) -> None:
    """Once a remote consultation's encounter is open (the specialist started it), write into
    the record who has joined and when they first did. The caller holds the consultation's
    lock; the participants are rows of their own (the encounter is not locked)."""
    appointment = consultation.appointment
    if not consultation.is_remote or appointment.encounter_id is None:
        return
    joined = [
        (appointment.slot.doctor.user, "specialist", consultation.doctor_joined_at),
        (consultation.gp, GP, consultation.gp_joined_at),
        (consultation.patient_joined_by, PATIENT, consultation.patient_joined_at),
    ]
    for account, role, at in joined:
        if account is None or at is None:
            continue
        encounter_participant_add(
            encounter=appointment.encounter,
            account=account,
            role=_RECORD_ROLES[role],
            name=participant_name(
                consultation=consultation, account=account, role=role, localised=False
            ),
            joined_at=at,
        )


def consultation_admit(*, consultation: Consultation, by: Any) -> Consultation:
    """The doctor lets the patient in: the consult goes live, the appointment `in_consult`
    (which opens the online encounter). Locks the appointment, then the consultation, then the
    encounter."""
    now = timezone.now()
    with transaction.atomic():
        consultation = _lock(consultation, appointment=True)
        if _role_or_refuse(consultation, by) not in HOSTS:
            raise DoctorOnly()
        if consultation.is_ended:
            raise ConsultClosed()
        if consultation.status == Consultation.Status.LIVE:
            return consultation
        if now < consultation.opens_at:
            raise NotYetOpen()
        consultation.status = Consultation.Status.LIVE
        consultation.admitted_at = now
        fields = ["status", "admitted_at"]
        if consultation.doctor_joined_at is None:
            consultation.doctor_joined_at = now
            fields.append("doctor_joined_at")
        consultation.save(update_fields=fields)
        _audit(consultation, by=by, action="admit")
        if consultation.appointment.status in (
            Appointment.Status.BOOKED,
            Appointment.Status.CHECKED_IN,
        ):
            _appointment_step(appointment_start_consult, consultation, by=by)
        _participants_record(consultation)
    return consultation


def consultation_video_connected(*, consultation: Consultation, by: Any) -> Consultation:
    """The two browsers completed a WebRTC negotiation in the live consult (first time only)."""
    with transaction.atomic():
        consultation = _lock(consultation)
        _role_or_refuse(consultation, by)
        if consultation.video_connected_at is None and not consultation.is_ended:
            consultation.video_connected_at = timezone.now()
            consultation.save(update_fields=["video_connected_at"])
            _audit(consultation, by=by, action="video_connected")
    return consultation


def chat_post(*, consultation: Consultation, sender: Any, text: Any) -> ChatMessage:
    """Store one chat message of a participant while the room is not ended."""
    if not isinstance(text, str):
        raise BadChat()
    text = text.strip()
    if not text or len(text) > CHAT_MAX_CHARS:
        raise BadChat()
    with transaction.atomic():
        consultation = _lock(consultation)
        _role_or_refuse(consultation, sender)
        if consultation.is_ended:
            raise ConsultClosed()
        message = ChatMessage.objects.create(consultation=consultation, sender=sender, text=text)
        _audit(consultation, by=sender, action="chat", message=message.pk)
    return message


def _by_chat(consultation: Consultation) -> bool:
    """Both sides wrote in the chat: the consult went on by chat."""
    doctor_account = consultation.appointment.slot.doctor.user_id
    senders = set(consultation.messages.values_list("sender_id", flat=True).distinct())
    return doctor_account in senders and bool(senders - {doctor_account})


def consultation_end(*, consultation: Consultation, by: Any) -> Consultation:
    """The doctor ends the consult; the appointment is completed (which closes its encounter).
    Locks the appointment, then the consultation, then the encounter."""
    now = timezone.now()
    with transaction.atomic():
        consultation = _lock(consultation, appointment=True)
        if _role_or_refuse(consultation, by) not in HOSTS:
            raise DoctorOnly()
        if consultation.is_ended:
            return consultation
        consultation.status = Consultation.Status.ENDED
        consultation.ended_at = now
        consultation.ended_by = by
        if consultation.video_connected_at is not None:
            consultation.outcome = Consultation.Outcome.COMPLETED
        elif _by_chat(consultation):
            consultation.outcome = Consultation.Outcome.COMPLETED_BY_CHAT
        else:
            consultation.outcome = Consultation.Outcome.COMPLETED
        consultation.save(update_fields=["status", "ended_at", "ended_by", "outcome"])
        _audit(consultation, by=by, action="end", outcome=consultation.outcome)
        if consultation.appointment.status != Appointment.Status.IN_CONSULT:
            went_live = consultation.admitted_at is not None

            # A consult that never went live passes through in_consult on its way to
            # completed: no encounter opens for it (no visit enters the record).
            def appointment_start_consult_at_end(*, appointment, by):
                return appointment_start_consult(
                    appointment=appointment, by=by, opens_encounter=went_live
                )

            _appointment_step(appointment_start_consult_at_end, consultation, by=by)
        _appointment_step(appointment_complete, consultation, by=by)
    return consultation


# --- Rooms nobody closed: the no-show rules ---------------------------------------------------


def _expire_one(consultation: Consultation, *, now: dt.datetime) -> str | None:
    """Locks the slot and the appointment (it may cancel, which frees the place), then the
    consultation, then the encounter (the appointment's status step closes it)."""
    with transaction.atomic():
        consultation = _lock(consultation, slot=True)
        if consultation.is_ended or consultation.closes_at > now:
            return None
        appointment = consultation.appointment
        if consultation.status == Consultation.Status.LIVE:
            if consultation.video_connected_at is not None:
                outcome = Consultation.Outcome.COMPLETED
            elif _by_chat(consultation):
                outcome = Consultation.Outcome.COMPLETED_BY_CHAT
            else:
                # Admitted, but neither video nor a conversation by chat: not the patient's
                # doing. The appointment closes as completed (never a no-show).
                outcome = Consultation.Outcome.NOT_CONNECTED
            _appointment_step(appointment_complete, consultation, by=None)
        elif consultation.patient_joined_at is None:
            outcome = Consultation.Outcome.PATIENT_NO_SHOW
            if appointment.status == Appointment.Status.BOOKED:

                def appointment_mark_no_show_never_joined(*, appointment, by):
                    return appointment_mark_no_show(
                        appointment=appointment, by=by, why="never joined the consult"
                    )

                _appointment_step(appointment_mark_no_show_never_joined, consultation, by=None)
        else:
            # The patient waited and the doctor never started: cancelled by the hospital,
            # which never counts against the patient, so they rebook without penalty.
            outcome = Consultation.Outcome.DOCTOR_NO_SHOW
            consultation.outcome = outcome
            consultation.save(update_fields=["outcome"])
            if appointment.status in (Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN):
                appointment_cancel(
                    appointment=appointment, by=None, reason=Appointment.CancelReason.HOSPITAL
                )
            consultation.refresh_from_db()
        consultation.status = Consultation.Status.ENDED
        consultation.ended_at = consultation.ended_at or now
        consultation.outcome = outcome
        consultation.save(update_fields=["status", "ended_at", "outcome"])
        _audit(consultation, by=None, action="expire", outcome=outcome)
    return outcome


def expire_unfinished(*, now: dt.datetime | None = None) -> int:
    """Close every room past its closing time that nobody ended, applying the no-show rules:
    a patient who never joined is a `no_show`; a consult the doctor never started is cancelled
    by the hospital (no penalty); a live one whose video never connected and that was not held
    by chat is marked `not_connected`. Returns how many rooms were closed."""
    now = now or timezone.now()
    due = Consultation.objects.exclude(status=Consultation.Status.ENDED).filter(closes_at__lte=now)
    count = 0
    for consultation in list(due.order_by("pk")):
        if _expire_one(consultation, now=now) is not None:
            count += 1
    return count


# --- In-person visits -------------------------------------------------------------------------


class VisitRefused(ConsultRefused):
    code = "visit"
    message = _("This visit cannot be completed now: the patient has to be checked in first.")


def visit_complete(*, appointment: Appointment, by: Any) -> Appointment:
    """The doctor completes an in-person visit: checked in (or in consultation) → completed,
    which closes the visit's encounter. One transaction: the appointment, then the encounter."""
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("slot__doctor")
            .get(pk=appointment.pk)
        )
        if appointment.slot.doctor.user_id != getattr(by, "pk", None):
            raise NotAllowed()
        if appointment.slot.mode != "in_person" or appointment.status not in (
            Appointment.Status.CHECKED_IN,
            Appointment.Status.IN_CONSULT,
        ):
            raise VisitRefused()
        if appointment.status == Appointment.Status.CHECKED_IN:
            appointment = appointment_start_consult(appointment=appointment, by=by)
        appointment = appointment_complete(appointment=appointment, by=by)
    return appointment
