"""Booking (DESIGN.md §3): holds, appointments, the status machine and the waiting list.

Callers import these names from `appointments.services`. Each service owns one transaction and
writes an AuditEvent whose target is the appointment (or hold, or waiting-list entry) and whose
`on_behalf_of` is the patient.

Counters are only ever changed by one conditional UPDATE (`booked = booked + 1 WHERE id = %s AND
booked < capacity ...`), never read-then-written.

The lock order, for the whole portal (DESIGN.md §3): a transaction that locks rows of several
of these tables locks them as Slot → Appointment → Consultation → Encounter, then the rest
(holds, referrals, waiting-list entries, queues, care relationships), and rows of one table in
primary-key order; a transaction that handles several appointments (a closure) locks all their
slots first, then takes the appointments one after another in primary-key order. The slot row
comes first because freeing or taking a place writes it: a path that starts from an appointment
(a cancel) reads its `slot_id` without a lock, locks the slot, then the appointment, and checks
that it still points there. Two transactions therefore never wait on each other in a circle;
tests/appointments/test_lock_order.py makes each crossing pair deadlock when the order is broken.
A status step that frees no place (check-in, no-show, completion) locks the appointment alone.
One known exception: the desk's "call next" locks the doctor's queue rows before the checked-in
appointment it calls; appointments/queue.py explains why that never closes a circle.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from appointments import policies
from appointments.live import slot_places_changed
from appointments.models import (
    ACTIVE_STATUSES,
    CLOSURE_CANCELS_STATUSES,
    Appointment,
    Hold,
    Mode,
    Pool,
    Slot,
    WaitlistEntry,
)
from appointments.policies import (
    AlreadyBooked,
    AlreadyWaiting,
    BookingRefused,
    CancelTooLate,
    HoldExpired,
    HoldNotYours,
    IllegalTransition,
    NoShowTooEarly,
    NotOnTheDay,
    OnlineNoDesk,
    PatientNotLinked,
    PlacesLeft,
    ReferralPlacesFull,
    SlotFull,
)
from appointments.queue import queue_assign
from appointments.signals import (
    appointment_booked,
    appointment_cancelled,
    appointment_status_changed,
)
from audit.services import audit_record
from records import services as clinical
from records.models import CareRelationship, Encounter, PatientLink, Referral
from records.services import care_relationship_end, care_relationship_grant

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CARE_AFTER_VISIT = dt.timedelta(days=7)
NO_SHOW_GRACE_MINUTES = 30

# One statement takes a place of one pool, only if the slot is open for it at `now`.
_TAKE = {
    # A public place, once public places are released.
    "public": (
        "booked = booked + 1",
        "booked < capacity AND release_at <= %(now)s",
    ),
    # A referral place, once referral places are released.
    "referral": (
        "referral_booked = referral_booked + 1",
        "referral_booked < referral_capacity AND referral_release_at <= %(now)s",
    ),
    # An unused referral place that has joined the public pool.
    "merged": (
        "referral_booked = referral_booked + 1",
        "referral_booked < referral_capacity AND referral_merge_at <= %(now)s "
        "AND release_at <= %(now)s",
    ),
}
_GIVE_BACK = {
    Pool.PUBLIC: ("booked = booked - 1", "booked > 0"),
    Pool.REFERRAL: ("referral_booked = referral_booked - 1", "referral_booked > 0"),
}


def _hold_minutes() -> int:
    return int(getattr(settings, "BOOKING_HOLD_MINUTES", 5))


def _update_counters(slot: Slot, assignment: str, condition: str, now: dt.datetime) -> bool:
    table = connection.ops.quote_name(Slot._meta.db_table)
    # Only this module's fixed fragments are joined in; values go as parameters.
    sql = " ".join(
        [
            "UPDATE",
            table,
            "SET",
            assignment,
            "WHERE id = %(id)s AND",
            condition,
            "RETURNING booked, referral_booked",
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"id": slot.pk, "now": now})
        row = cursor.fetchone()
    if row is None:
        return False
    slot.booked, slot.referral_booked = row
    return True


def _take_place(slot: Slot, *, now: dt.datetime, referral: bool) -> str:
    """Take one place and say from which pool; the slot's counters are updated in place."""
    base = " AND closed_at IS NULL AND start > %(now)s"
    order = ("referral", "public") if referral else ("public", "merged")
    for way in order:
        assignment, condition = _TAKE[way]
        if _update_counters(slot, assignment, condition + base, now):
            return Pool.PUBLIC if way == "public" else Pool.REFERRAL
    slot.refresh_from_db(fields=["booked", "referral_booked", "closed_at"])
    policies.check_slot_open(slot=slot, now=now, referral=referral)
    if referral and now < slot.release_at:
        raise ReferralPlacesFull()
    raise SlotFull()


def _give_back(slot: Slot, pool: str, *, now: dt.datetime) -> None:
    assignment, condition = _GIVE_BACK[pool]
    _update_counters(slot, assignment, condition, now)


def _fresh_slot(slot: Slot) -> Slot:
    return Slot.objects.select_related("site", "doctor__user", "department").get(pk=slot.pk)


def _lock_slot(slot: Slot) -> Slot:
    """The slot's row, locked first (the module's lock order) and read fresh. FOR NO KEY
    UPDATE, what the counter UPDATE takes anyway, so rows that only point at the slot (a new
    hold, a waiting-list entry) are not held up."""
    return (
        Slot.objects.select_for_update(no_key=True, of=("self",))
        .select_related("site", "doctor__user", "department")
        .get(pk=slot.pk)
    )


def _lock_slots(slot_ids) -> None:
    """Lock several slots' rows in primary-key order, before anything else."""
    list(
        Slot.objects.select_for_update(no_key=True)
        .filter(pk__in=set(slot_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _new_code() -> str:
    for _attempt in range(10):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not Appointment.objects.filter(code=code).exists():
            return code
    raise RuntimeError("could not find a free appointment code")  # pragma: no cover


def _promote_on_commit(slot_id: int) -> None:
    def promote() -> None:
        waitlist_promote(slot=Slot(pk=slot_id))

    transaction.on_commit(promote)


# --- Holds ----------------------------------------------------------------------------------


def _hold_end(hold: Hold, *, now: dt.datetime, state: str) -> None:
    """Give a live hold's place back (or not, when it became an appointment). The caller holds
    the hold's slot's lock, then the hold's."""
    if state == Hold.State.RELEASED:
        slot = Slot.objects.get(pk=hold.slot_id)
        _give_back(slot, hold.pool, now=now)
        slot_places_changed(slot=slot)
        _promote_on_commit(slot.pk)
    hold.state = state
    hold.ended_at = now
    hold.save(update_fields=["state", "ended_at"])


def hold_create(*, slot: Slot, account: Any, referral: Referral | None = None) -> Hold:
    """Keep a place for `BOOKING_HOLD_MINUTES` while the account confirms. The account's
    previous live hold is released first (one live hold per account); reopening the page of
    the same slot renews the same hold."""
    try:
        return _hold_create(slot=slot, account=account, referral=referral)
    except (IntegrityError, _HoldMoved):
        # The same account opened the page twice at once and the other request's hold won
        # the one-live-hold-per-account index (or replaced the hold this one read): this
        # request's place went back with its transaction; take the usual path again, which
        # now sees that hold.
        return _hold_create(slot=slot, account=account, referral=referral)


class _HoldMoved(Exception):
    """The account's live hold changed between reading it and locking its slot."""


def _hold_create(*, slot: Slot, account: Any, referral: Referral | None) -> Hold:
    """Locks the previous hold's slot and the new one in primary-key order, then the previous
    hold, then the referral (the module's lock order)."""
    now = timezone.now()
    with transaction.atomic():
        seen = Hold.objects.filter(account=account, state="live").first()
        _lock_slots({slot.pk} | ({seen.slot_id} if seen is not None else set()))
        previous = Hold.objects.select_for_update().filter(account=account, state="live").first()
        if (previous.pk if previous else None) != (seen.pk if seen else None):
            raise _HoldMoved()
        if (
            previous is not None
            and previous.slot_id == slot.pk
            and previous.expires_at > now
            and (referral is None or previous.referral_id == referral.pk)
        ):
            previous.expires_at = now + dt.timedelta(minutes=_hold_minutes())
            previous.save(update_fields=["expires_at"])
            return previous
        if previous is not None:
            _hold_end(previous, now=now, state=Hold.State.RELEASED)
            audit_record(
                actor=account,
                action="hold.release",
                target=previous,
                data={"slot": previous.slot_id, "why": "replaced"},
            )
        slot = _fresh_slot(slot)
        if referral is not None:
            referral = Referral.objects.select_for_update().get(pk=referral.pk)
            policies.check_referral(referral=referral, patient=None, slot=slot, now=now)
        policies.check_slot_open(slot=slot, now=now, referral=referral is not None)
        pool = _take_place(slot, now=now, referral=referral is not None)
        hold = Hold.objects.create(
            slot=slot,
            account=account,
            pool=pool,
            referral=referral,
            created_at=now,
            expires_at=now + dt.timedelta(minutes=_hold_minutes()),
        )
        audit_record(
            actor=account,
            action="hold.create",
            target=hold,
            data={"slot": slot.pk, "pool": pool, "expires_at": hold.expires_at.isoformat()},
        )
        slot_places_changed(slot=slot)
    return hold


def hold_release(*, hold: Hold) -> Hold:
    """Give the place back now (the patient left the confirmation page). Locks the slot, then
    the hold."""
    now = timezone.now()
    with transaction.atomic():
        _lock_slots([Hold.objects.values_list("slot_id", flat=True).get(pk=hold.pk)])
        hold = Hold.objects.select_for_update().get(pk=hold.pk)
        if hold.state == Hold.State.LIVE:
            _hold_end(hold, now=now, state=Hold.State.RELEASED)
            audit_record(
                actor=hold.account,
                action="hold.release",
                target=hold,
                data={"slot": hold.slot_id, "why": "released"},
            )
    return hold


def release_expired_holds(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Give back the places of holds that ran out. Several workers may run it at once: each
    claims rows nobody else holds (`SKIP LOCKED`). The slots are locked first, in primary-key
    order, then the holds (the module's lock order)."""
    now = now or timezone.now()
    with transaction.atomic():
        due = Hold.objects.filter(state=Hold.State.LIVE, expires_at__lte=now)
        candidates = list(due.order_by("expires_at", "pk").values_list("pk", "slot_id")[:batch])
        _lock_slots(slot_id for _pk, slot_id in candidates)
        holds = list(
            due.select_for_update(skip_locked=True)
            .filter(pk__in=[pk for pk, _slot_id in candidates])
            .order_by("expires_at", "pk")
        )
        if not holds:
            return 0
        slots: dict[int, Slot] = {}
        for hold in holds:
            slot = slots.setdefault(hold.slot_id, Slot(pk=hold.slot_id))
            _give_back(slot, hold.pool, now=now)
            hold.state = Hold.State.RELEASED
            hold.ended_at = now
        Hold.objects.bulk_update(holds, ["state", "ended_at"])
        for slot in Slot.objects.filter(pk__in=list(slots)):
            slot_places_changed(slot=slot)
            _promote_on_commit(slot.pk)
        audit_record(
            actor=None,
            action="hold.expire",
            data={"holds": len(holds), "slots": sorted(slots)},
        )
    return len(holds)


# --- Booking --------------------------------------------------------------------------------


class _AlreadyDone(Exception):
    """Rolls back a duplicate request and hands back the appointment it duplicates."""

    def __init__(self, appointment: Appointment) -> None:
        self.appointment = appointment


def _by_key(account: Any, key: str | None) -> Appointment | None:
    if not key:
        return None
    return Appointment.objects.filter(booked_by=account, idempotency_key=key).first()


def _book(
    *,
    patient: Any,
    slot: Slot,
    booked_by: Any,
    hold: Hold | None,
    idempotency_key: str | None,
    referral: Referral | None,
    visit_reason: str,
    ignore: Appointment | None = None,
    sequence: int = 0,
    rescheduled_from: Appointment | None = None,
) -> Appointment:
    """The booking itself; the caller owns the transaction. Locks the slot first, then the
    hold and the referral (the module's lock order); a reschedule has locked both slots and
    the old appointment before."""
    now = timezone.now()
    slot = _lock_slot(slot)
    ran_out = False
    live_hold = None
    if hold is not None:
        hold = Hold.objects.select_for_update().get(pk=hold.pk)
        if hold.account_id != booked_by.pk or hold.slot_id != slot.pk:
            raise HoldNotYours()
        if hold.is_live(now=now):
            live_hold = hold
        else:
            # A converted hold is already an appointment: a second submit is a new request.
            ran_out = hold.state != Hold.State.CONVERTED
            if hold.state == Hold.State.LIVE:  # ran out, not yet swept: its place goes back
                _hold_end(hold, now=now, state=Hold.State.RELEASED)
    else:
        live_hold = (
            Hold.objects.select_for_update()
            .filter(account=booked_by, slot=slot, state=Hold.State.LIVE, expires_at__gt=now)
            .first()
        )
    if live_hold is not None and referral is None and live_hold.referral_id:
        referral = live_hold.referral
    if referral is not None:
        referral = Referral.objects.select_for_update().get(pk=referral.pk)

    if live_hold is not None:
        if slot.closed_at is not None:
            raise policies.SlotClosed()
        if now >= slot.start:
            raise policies.SlotStarted()
        pool = live_hold.pool
        live_hold.state = Hold.State.CONVERTED
        live_hold.ended_at = now
        live_hold.save(update_fields=["state", "ended_at"])
    else:
        try:
            policies.check_slot_open(slot=slot, now=now, referral=referral is not None)
            pool = _take_place(slot, now=now, referral=referral is not None)
        except SlotFull:
            if ran_out:
                raise HoldExpired() from None
            raise
    # Holding the slot's row now: a request with the same key that got here first has
    # committed, and this statement sees it.
    existing = _by_key(booked_by, idempotency_key)
    if existing is not None:
        raise _AlreadyDone(existing)

    policies.check_patient_policies(
        patient=patient, slot=slot, account=booked_by, now=now, ignore=ignore, referral=referral
    )

    appointment = Appointment.objects.create(
        code=_new_code(),
        patient=patient,
        slot=slot,
        booked_by=booked_by,
        pool=pool,
        referral=referral,
        visit_reason=visit_reason,
        idempotency_key=idempotency_key or "",
        booked_phone=booked_by.phone if booked_by.phone_verified else "",
        rescheduled_from=rescheduled_from,
        sequence=sequence,
        created_at=now,
    )
    if referral is not None and referral.status != Referral.Status.BOOKED:
        referral.status = Referral.Status.BOOKED
        referral.save(update_fields=["status"])
    audit_record(
        actor=booked_by,
        action="appointment.book",
        target=appointment,
        on_behalf_of=patient,
        data={
            "from": None,
            "to": Appointment.Status.BOOKED,
            "slot": slot.pk,
            "pool": pool,
            "hold": live_hold.pk if live_hold is not None else None,
            "referral": referral.pk if referral is not None else None,
            "rescheduled_from": rescheduled_from.code if rescheduled_from else None,
        },
    )
    doctor_user = slot.doctor.user
    if doctor_user is not None:
        care_relationship_grant(
            patient=patient,
            user=doctor_user,
            reason=CareRelationship.Reason.BOOKING,
            until=slot.end + CARE_AFTER_VISIT,
            source=appointment,
        )
    appointment_booked.send(
        sender=Appointment,
        appointment=appointment,
        by=booked_by,
        rescheduled_from=rescheduled_from,
    )
    slot_places_changed(slot=slot)
    return appointment


def _is_patient_slot_clash(error: IntegrityError) -> bool:
    text = str(error)
    return "appointment_one_active_per_patient_slot" in text or (
        "patient_id" in text and "slot_id" in text
    )


def appointment_book(
    *,
    patient: Any,
    slot: Slot,
    booked_by: Any,
    hold: Hold | None = None,
    idempotency_key: str | None = None,
    referral: Referral | None = None,
    visit_reason: str = "",
) -> Appointment:
    """Book a place for `patient` (DESIGN.md §3). With a live hold of this account on this
    slot the hold becomes the appointment; otherwise one conditional UPDATE takes a place.
    Raises a `BookingRefused` and leaves nothing behind when a rule says no. The same
    `idempotency_key` from the same account returns the same appointment."""
    existing = _by_key(booked_by, idempotency_key)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _book(
                patient=patient,
                slot=slot,
                booked_by=booked_by,
                hold=hold,
                idempotency_key=idempotency_key,
                referral=referral,
                visit_reason=visit_reason,
            )
    except _AlreadyDone as done:
        return done.appointment
    except IntegrityError as error:
        existing = _by_key(booked_by, idempotency_key)
        if existing is not None:
            return existing
        if _is_patient_slot_clash(error):
            raise AlreadyBooked() from None
        raise
    except BookingRefused:
        existing = _by_key(booked_by, idempotency_key)
        if existing is not None:
            return existing
        raise


# --- Cancel and reschedule -------------------------------------------------------------------


def _lock_appointment(appointment: Appointment) -> Appointment:
    """The appointment's row alone: for a step that frees no place. A caller that also locks
    the slot has locked it before (`_lock_slot_then_appointment`)."""
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("slot", "slot__site", "patient")
        .get(pk=appointment.pk)
    )


def _lock_slot_then_appointment(
    appointment: Appointment, *, also_slot: Slot | None = None
) -> Appointment:
    """Lock the appointment's slot (with `also_slot`, both slots in primary-key order), then
    the appointment: its `slot_id` is read without a lock first, and checked once locked."""
    slot_id = Appointment.objects.values_list("slot_id", flat=True).get(pk=appointment.pk)
    _lock_slots([slot_id] + ([also_slot.pk] if also_slot is not None else []))
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


def _may_act_for(*, account: Any, appointment: Appointment) -> bool:
    if account is None:
        return False
    if appointment.booked_by_id == account.pk:
        return True
    return (
        PatientLink.objects.live()
        .filter(patient_id=appointment.patient_id, account=account, can_book=True)
        .exists()
    )


def _check_cutoff(appointment: Appointment, *, now: dt.datetime) -> None:
    hours = appointment.slot.site.cancellation_cutoff_hours
    if now > appointment.slot.start - dt.timedelta(hours=hours):
        raise CancelTooLate(hours=hours)


def _cancel(appointment: Appointment, *, by: Any, reason: str, now: dt.datetime) -> Appointment:
    """The caller holds the slot's lock, then the appointment's; the receivers of
    `appointment_cancelled` lock the consultation, then the encounter is closed and the
    referral given back (the module's lock order)."""
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
    _give_back(slot, appointment.pool, now=now)
    appointment_cancelled.send(sender=Appointment, appointment=appointment, by=by, reason=reason)
    _record_side(appointment, by=by, new=Appointment.Status.CANCELLED)
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
        _promote_on_commit(slot.pk)
    return appointment


def appointment_cancel(*, appointment: Appointment, by: Any, reason: str) -> Appointment:
    """Cancel and free the place. A patient (`reason="patient"`) must act for the person and
    be before the hospital's cut-off; the hospital or a closure may cancel any time. Locks the
    slot, then the appointment (the module's lock order)."""
    if reason not in Appointment.CancelReason.values:
        raise ValueError(f"unknown cancel reason {reason!r}")
    now = timezone.now()
    with transaction.atomic():
        appointment = _lock_slot_then_appointment(appointment)
        if reason == Appointment.CancelReason.PATIENT:
            if not _may_act_for(account=by, appointment=appointment):
                raise PatientNotLinked()
            if appointment.status == Appointment.Status.BOOKED:
                _check_cutoff(appointment, now=now)
        return _cancel(appointment, by=by, reason=reason, now=now)


def appointment_reschedule(*, appointment: Appointment, new_slot: Slot, by: Any) -> Appointment:
    """Move to another time in one transaction: book the new place (the rules ignore the
    appointment being replaced), then cancel the old one (`rescheduled`). Both or neither.
    Locks both slots in primary-key order, then the old appointment (the module's lock order)."""
    now = timezone.now()
    with transaction.atomic():
        old = _lock_slot_then_appointment(appointment, also_slot=new_slot)
        if old.status != Appointment.Status.BOOKED:
            raise IllegalTransition(
                old=old.get_status_display(), new=Appointment.Status.CANCELLED.label
            )
        if not _may_act_for(account=by, appointment=old):
            raise PatientNotLinked()
        _check_cutoff(old, now=now)
        if new_slot.pk == old.slot_id:
            raise AlreadyBooked()
        new = _book(
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
    appointment: Appointment, *, by: Any, new: str, why: str = "", check=None, also=None
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
        _record_side(appointment, by=by, new=new)
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


def _record_side(appointment: Appointment, *, by: Any, new: str) -> None:
    """The record follows the visit (issue 8): check-in opens an in-person encounter, and
    completing the visit closes it and completes the referral it was booked on. An online
    encounter is opened by telemedicine when the consult goes live."""
    slot = appointment.slot
    if (
        new == Appointment.Status.CHECKED_IN
        and slot.mode == Mode.IN_PERSON
        and appointment.encounter_id is None
    ):
        appointment.encounter = clinical.encounter_open(
            patient=appointment.patient,
            doctor=slot.doctor,
            mode=Encounter.Mode.IN_PERSON,
            site=slot.site,
            department=slot.department,
            by=by,
        )
        appointment.save(update_fields=["encounter"])
    closing = new in (Appointment.Status.COMPLETED, Appointment.Status.CANCELLED)
    if closing and appointment.encounter_id is not None:
        clinical.encounter_close(encounter=appointment.encounter, by=by)
    if new == Appointment.Status.COMPLETED and appointment.referral_id is not None:
        clinical.referral_complete(referral=appointment.referral, by=by)


def _on_the_day(appointment: Appointment, now: dt.datetime) -> None:
    slot = appointment.slot
    if now.astimezone(slot.site.zone).date() != policies.slot_local_day(slot):
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
    next number of its doctor's queue of the day (appointments/queue.py). A desk checks in
    in-person appointments only (an online one is checked in by joining its room)."""
    return _transition(
        appointment,
        by=by,
        new=Appointment.Status.CHECKED_IN,
        check=_in_person_on_the_day if at_desk else _on_the_day,
        also=_take_queue_number,
    )


def appointment_start_consult(*, appointment: Appointment, by: Any) -> Appointment:
    """checked_in → in_consult (or booked → in_consult for an online appointment)."""

    def online_or_checked_in(appt: Appointment, now: dt.datetime) -> None:
        if appt.status == Appointment.Status.BOOKED and appt.slot.mode != "online":
            raise IllegalTransition(
                old=appt.get_status_display(), new=Appointment.Status.IN_CONSULT.label
            )

    return _transition(
        appointment, by=by, new=Appointment.Status.IN_CONSULT, check=online_or_checked_in
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


# --- Waiting list -----------------------------------------------------------------------------


def waitlist_join(*, patient: Any, slot: Slot, account: Any) -> WaitlistEntry:
    """Wait for a place in a full slot; every rule that booking checks is checked now too."""
    now = timezone.now()
    with transaction.atomic():
        slot = _fresh_slot(slot)
        policies.check_slot_open(slot=slot, now=now)
        if slot.public_places_left(now=now) > 0:
            raise PlacesLeft()
        policies.check_patient_policies(patient=patient, slot=slot, account=account, now=now)
        if WaitlistEntry.objects.filter(slot=slot, patient=patient, state="waiting").exists():
            raise AlreadyWaiting()
        entry = WaitlistEntry.objects.create(
            slot=slot, patient=patient, account=account, created_at=now
        )
        audit_record(
            actor=account,
            action="waitlist.join",
            target=entry,
            on_behalf_of=patient,
            data={"slot": slot.pk},
        )
    return entry


def waitlist_leave(*, entry: WaitlistEntry, by: Any) -> WaitlistEntry:
    with transaction.atomic():
        entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.state == WaitlistEntry.State.WAITING:
            entry.state = WaitlistEntry.State.LEFT
            entry.save(update_fields=["state"])
            audit_record(
                actor=by,
                action="waitlist.leave",
                target=entry,
                on_behalf_of=entry.patient,
                data={"slot": entry.slot_id},
            )
    return entry


_SLOT_SAYS_NO = (SlotFull, policies.SlotClosed, policies.SlotStarted, policies.NotReleasedYet)


def waitlist_promote(*, slot: Slot) -> Appointment | None:
    """Book the first waiting entry whose rules pass; entries that fail keep their place in
    the line, and nobody is booked when the slot has no place. Locks the slot, then the
    entries (the module's lock order), as a closure of the slot does."""
    with transaction.atomic():
        _lock_slots([slot.pk])
        entries = list(
            WaitlistEntry.objects.select_for_update()
            .filter(slot_id=slot.pk, state=WaitlistEntry.State.WAITING)
            .select_related("patient", "account")
            .order_by("created_at", "pk")
        )
        for entry in entries:
            try:
                appointment = appointment_book(
                    patient=entry.patient, slot=slot, booked_by=entry.account
                )
            except _SLOT_SAYS_NO:
                return None
            except BookingRefused:
                continue
            entry.state = WaitlistEntry.State.PROMOTED
            entry.appointment = appointment
            entry.save(update_fields=["state", "appointment"])
            audit_record(
                actor=None,
                action="waitlist.promote",
                target=appointment,
                on_behalf_of=entry.patient,
                data={"entry": entry.pk, "slot": slot.pk},
            )
            return appointment
    return None


# --- Closures and records ---------------------------------------------------------------------


def cancel_for_closure(sender: Any, *, closure: Any, slot_ids: list[int], **kwargs: Any) -> None:
    """`closure_created` receiver: cancel every appointment in the closed slots (reason
    `closure`, never counted against the patient); the waiting lists of those slots end.
    `closure_create` holds the slots' locks: the appointments are locked one after another in
    primary-key order (the module's lock order)."""
    for appointment in Appointment.objects.filter(
        slot_id__in=slot_ids, status__in=CLOSURE_CANCELS_STATUSES
    ).order_by("pk"):
        appointment_cancel(
            appointment=appointment,
            by=closure.created_by,
            reason=Appointment.CancelReason.CLOSURE,
        )
    WaitlistEntry.objects.filter(slot_id__in=slot_ids, state="waiting").update(state="expired")


def count_future_appointments(patient: Any) -> int:
    """For records.hooks: a person with active future appointments is not edited or removed."""
    return Appointment.objects.filter(
        patient=patient, status__in=ACTIVE_STATUSES, slot__end__gt=timezone.now()
    ).count()
