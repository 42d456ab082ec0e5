"""An appointment's status machine: cancel and reschedule (which free a place), check-in,
consult, completion and no-show. It owns the record's side of the visit: the encounter opens at
an in-person check-in or when an online consult goes live, and closes with the visit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from appointments import policies
from appointments.errors import (
    AlreadyBooked,
    BookingRefused,
    CancelTooLate,
    IllegalTransition,
    NoShowTooEarly,
    NotOnTheDay,
    OnlineNoDesk,
    PatientNotLinked,
)
from appointments.live import slot_places_changed
from appointments.models import ACTIVE_STATUSES, Appointment, Mode, Slot
from appointments.selectors.appointments import account_may_act_for_appointment
from appointments.services.booking import appointment_book_locked, waitlist_promote_on_commit
from appointments.services.messages import messages_for_cancellation
from appointments.services.places import place_give_back, slots_lock
from appointments.services.queue import queue_assign
from appointments.signals import appointment_cancelled, appointment_status_changed
from audit.services import audit_record
from records import services as clinical
from records.models import Encounter, Referral
from records.services import care_relationship_end

NO_SHOW_GRACE_MINUTES = 30


# --- Cancel and reschedule -------------------------------------------------------------------


def _lock_appointment(appointment: Appointment) -> Appointment:
    """The appointment's row alone: for a step that frees no place. A caller that also locks
    the slot has locked it before (`_lock_slot_then_appointment`)."""
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related(
            "slot", "slot__site", "slot__doctor", "slot__department", "patient", "booked_by"
        )
        .get(pk=appointment.pk)
    )


def _lock_slot_then_appointment(
    appointment: Appointment, *, also_slot: Slot | None = None
) -> Appointment:
    """Lock the appointment's slot (with `also_slot`, both slots in primary-key order), then
    the appointment: its `slot_id` is read without a lock first, and checked once locked."""
    slot_id = Appointment.objects.values_list("slot_id", flat=True).get(pk=appointment.pk)
    slots_lock([slot_id] + ([also_slot.pk] if also_slot is not None else []))
    locked = _lock_appointment(appointment)
    if locked.slot_id != slot_id:  # pragma: no cover - no service moves an appointment
        raise RuntimeError(f"appointment {locked.pk} moved to another slot while being locked")
    return locked


def appointment_lock(*, appointment: Appointment, slot: bool = False) -> Appointment:
    """For a higher app's transaction that goes on to lock rows after the appointment (the
    consult's): lock the appointment, after its slot with `slot=True` (when the transaction may
    cancel it, which frees the place). The caller owns the transaction."""
    if slot:
        return _lock_slot_then_appointment(appointment)
    return _lock_appointment(appointment)


def _check_cutoff(appointment: Appointment, *, now: dt.datetime) -> None:
    hours = appointment.slot.site.cancellation_cutoff_hours
    if now > appointment.slot.start - dt.timedelta(hours=hours):
        raise CancelTooLate(hours=hours)


def _cancel(
    appointment: Appointment, *, by: Any, reason: str, now: dt.datetime, why: str = ""
) -> Appointment:
    """The caller holds the slot's lock, then the appointment's; the receivers of
    `appointment_cancelled` lock the consultation, then the encounter is closed and the
    referral given back (the lock order)."""
    if reason == Appointment.CancelReason.PATIENT and appointment.status != "booked":
        raise IllegalTransition(
            old=appointment.get_status_display(), new=Appointment.Status.CANCELLED.label
        )
    policies.check_edge(appointment=appointment, new=Appointment.Status.CANCELLED)
    old = appointment.status
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancel_reason = reason
    appointment.ended_at = now
    appointment.sequence += 1
    appointment.save(update_fields=["status", "cancel_reason", "ended_at", "sequence"])
    slot = appointment.slot
    place_give_back(slot, appointment.pool, now=now)
    messages_for_cancellation(appointment=appointment, reason=reason, why=why)
    appointment_cancelled.send(sender=Appointment, appointment=appointment, by=by, reason=reason)
    _encounter_follows_status(appointment, by=by, new=Appointment.Status.CANCELLED)
    if (
        appointment.referral_id
        and reason != Appointment.CancelReason.RESCHEDULED
        and not Appointment.objects.filter(
            referral_id=appointment.referral_id, status__in=ACTIVE_STATUSES
        ).exists()
    ):
        Referral.objects.filter(
            pk=appointment.referral_id, status=Referral.Status.BOOKED, valid_until__gt=now
        ).update(status=Referral.Status.ISSUED)
    # The doctor's access from this booking ends with it (a reschedule's new booking has its
    # own); another live reason to read the record keeps its own grant.
    care_relationship_end(source=appointment, by=by)
    audit_record(
        actor=by,
        action="appointment.cancel",
        target=appointment,
        on_behalf_of=appointment.patient,
        data={"from": old, "to": Appointment.Status.CANCELLED, "why": reason},
    )
    slot_places_changed(slot=slot)
    if reason != Appointment.CancelReason.CLOSURE:
        waitlist_promote_on_commit(slot.pk)
    return appointment


def appointment_cancel(
    *, appointment: Appointment, by: Any, reason: str, why: str = ""
) -> Appointment:
    """Cancel and free the place. A patient (`reason="patient"`) must act for the person and
    be before the hospital's cut-off; the hospital or a closure may cancel any time. `why` is
    the sentence the patient is told (a closure's reason, as the admin typed it). Locks the
    slot, then the appointment (the lock order)."""
    if reason not in Appointment.CancelReason.values:
        raise ValueError(f"unknown cancel reason {reason!r}")
    now = timezone.now()
    with transaction.atomic():
        appointment = _lock_slot_then_appointment(appointment)
        if reason == Appointment.CancelReason.PATIENT:
            if not account_may_act_for_appointment(account=by, appointment=appointment):
                raise PatientNotLinked()
            if appointment.status == Appointment.Status.BOOKED:
                _check_cutoff(appointment, now=now)
        return _cancel(appointment, by=by, reason=reason, now=now, why=why)


def appointment_reschedule(*, appointment: Appointment, new_slot: Slot, by: Any) -> Appointment:
    """Move to another time in one transaction: book the new place (the rules ignore the
    appointment being replaced), then cancel the old one (`rescheduled`). Both or neither.
    Locks both slots in primary-key order, then the old appointment (the lock order)."""
    now = timezone.now()
    with transaction.atomic():
        old = _lock_slot_then_appointment(appointment, also_slot=new_slot)
        if old.status != Appointment.Status.BOOKED:
            raise IllegalTransition(
                old=old.get_status_display(), new=Appointment.Status.CANCELLED.label
            )
        if not account_may_act_for_appointment(account=by, appointment=old):
            raise PatientNotLinked()
        _check_cutoff(old, now=now)
        if new_slot.pk == old.slot_id:
            raise AlreadyBooked()
        new = appointment_book_locked(
            patient=old.patient,
            slot=new_slot,
            booked_by=by,
            hold=None,
            idempotency_key=None,
            referral=old.referral,
            visit_reason=old.visit_reason,
            ignore=old,
            sequence=old.sequence + 1,
            rescheduled_from=old,
        )
        _cancel(old, by=by, reason=Appointment.CancelReason.RESCHEDULED, now=now)
    return new


# --- Status machine ------------------------------------------------------------------------


def _transition(
    appointment: Appointment,
    *,
    by: Any,
    new: str,
    why: str = "",
    check=None,
    also=None,
    opens_encounter: bool = True,
) -> Appointment:
    """Move along one edge under the appointment's row lock (no slot lock: no place changes;
    the encounter, queue and referral rows come after it). `also(appointment, now)` runs in
    the same transaction after the save and returns what it adds to the audit data."""
    now = timezone.now()
    with transaction.atomic():
        appointment = _lock_appointment(appointment)
        policies.check_edge(appointment=appointment, new=new)
        if check is not None:
            check(appointment, now)
        old = appointment.status
        appointment.status = new
        fields = ["status"]
        if new == Appointment.Status.CHECKED_IN:
            appointment.checked_in_at = now
            fields.append("checked_in_at")
        if new in (Appointment.Status.COMPLETED, Appointment.Status.NO_SHOW):
            appointment.ended_at = now
            fields.append("ended_at")
        appointment.save(update_fields=fields)
        extra = also(appointment, now) if also is not None else {}
        _encounter_follows_status(appointment, by=by, new=new, opens=opens_encounter)
        audit_record(
            actor=by,
            action=f"appointment.{new}",
            target=appointment,
            on_behalf_of=appointment.patient,
            data={"from": old, "to": new, "why": why, **extra},
        )
        appointment_status_changed.send(
            sender=Appointment, appointment=appointment, by=by, old=old, new=new
        )
    return appointment


ENCOUNTER_MODES = {
    Mode.IN_PERSON: Encounter.Mode.IN_PERSON,
    Mode.ONLINE: Encounter.Mode.ONLINE,
    Mode.REMOTE: Encounter.Mode.REMOTE,
}


def _encounter_follows_status(
    appointment: Appointment, *, by: Any, new: str, opens: bool = True
) -> None:
    """The record follows the visit (issue 8), here and nowhere else: an in-person check-in
    opens an encounter, and so does an online appointment going into its consult (the doctor
    admitting the patient); completing, cancelling or a no-show closes it, and completing
    completes the referral the visit was booked on. The caller holds the appointment's lock, so
    the encounter comes after it (the lock order)."""
    slot = appointment.slot
    visit_begins = (new == Appointment.Status.CHECKED_IN and slot.mode == Mode.IN_PERSON) or (
        new == Appointment.Status.IN_CONSULT and slot.mode in (Mode.ONLINE, Mode.REMOTE)
    )
    if opens and visit_begins and appointment.encounter_id is None:
        appointment.encounter = clinical.encounter_open(
            patient=appointment.patient,
            doctor=slot.doctor,
            mode=ENCOUNTER_MODES[slot.mode],
            site=slot.site,
            department=slot.department,
            by=by,
        )
        appointment.save(update_fields=["encounter"])
    closing = new in (
        Appointment.Status.COMPLETED,
        Appointment.Status.CANCELLED,
        Appointment.Status.NO_SHOW,
    )
    if closing and appointment.encounter_id is not None:
        clinical.encounter_close(encounter=appointment.encounter, by=by)
    if new == Appointment.Status.COMPLETED and appointment.referral_id is not None:
        clinical.referral_complete(referral=appointment.referral, by=by)


def _on_the_day(appointment: Appointment, now: dt.datetime) -> None:
    slot = appointment.slot
    if slot.site.local_date(now) != policies.slot_local_day(slot):
        raise NotOnTheDay()


def _after_start(appointment: Appointment, now: dt.datetime) -> None:
    if now < appointment.slot.start:
        raise NoShowTooEarly()


def _take_queue_number(appointment: Appointment, now: dt.datetime) -> dict:
    if appointment.slot.mode != Mode.IN_PERSON:
        return {}
    queue_assign(appointment=appointment, day=policies.slot_local_day(appointment.slot))
    return {"queue": appointment.queue_label}


def _in_person_on_the_day(appointment: Appointment, now: dt.datetime) -> None:
    if appointment.slot.mode != Mode.IN_PERSON:
        raise OnlineNoDesk()
    _on_the_day(appointment, now)


def appointment_check_in(
    *, appointment: Appointment, by: Any, at_desk: bool = False
) -> Appointment:
    """booked → checked_in, on the slot's local day only; an in-person appointment takes the
    next number of its doctor's queue of the day (appointments/services/queue.py). A desk checks in
    in-person appointments only (an online one is checked in by joining its room)."""
    return _transition(
        appointment,
        by=by,
        new=Appointment.Status.CHECKED_IN,
        check=_in_person_on_the_day if at_desk else _on_the_day,
        also=_take_queue_number,
    )


def appointment_start_consult(
    *, appointment: Appointment, by: Any, opens_encounter: bool = True
) -> Appointment:
    """checked_in → in_consult (or booked → in_consult for an online appointment); an online
    one's encounter opens (the consult went live). `opens_encounter=False`: the doctor ended a
    consult that never went live, so the appointment passes through in_consult only to be
    completed, and no visit enters the record."""

    def online_or_checked_in(appt: Appointment, now: dt.datetime) -> None:
        # An online consult and a remote consultation have no desk: they start from booked.
        if appt.status == Appointment.Status.BOOKED and appt.slot.mode == Mode.IN_PERSON:
            raise IllegalTransition(
                old=appt.get_status_display(), new=Appointment.Status.IN_CONSULT.label
            )

    return _transition(
        appointment,
        by=by,
        new=Appointment.Status.IN_CONSULT,
        check=online_or_checked_in,
        opens_encounter=opens_encounter,
    )


def appointment_complete(*, appointment: Appointment, by: Any) -> Appointment:
    return _transition(appointment, by=by, new=Appointment.Status.COMPLETED)


def appointment_mark_no_show(
    *, appointment: Appointment, by: Any, why: str = "not checked in"
) -> Appointment:
    return _transition(
        appointment, by=by, new=Appointment.Status.NO_SHOW, why=why, check=_after_start
    )


def mark_no_shows(
    *, now: dt.datetime | None = None, grace_minutes: int = NO_SHOW_GRACE_MINUTES
) -> int:
    """Booked in-person appointments nobody checked in by the slot's end + grace."""
    now = now or timezone.now()
    missed = Appointment.objects.filter(
        status=Appointment.Status.BOOKED,
        slot__mode="in_person",
        slot__end__lte=now - dt.timedelta(minutes=grace_minutes),
    ).order_by("pk")
    count = 0
    for appointment in list(missed):
        try:
            appointment_mark_no_show(appointment=appointment, by=None, why="not checked in")
        except BookingRefused:  # changed meanwhile (checked in, cancelled)
            continue
        count += 1
    return count
