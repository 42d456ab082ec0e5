"""Booking (DESIGN.md §3): a place for a patient, from a live hold or by one conditional UPDATE;
and the waiting list's promotion, which books.

`hold_end`, `waitlist_promote` and `appointment_book` live together: ending a hold frees a place,
which promotes the waiting list, which books, and booking may end an expired hold. Split across
modules they would import each other in a circle."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from appointments import policies
from appointments.errors import (
    AlreadyBooked,
    BookingRefused,
    HoldExpired,
    HoldNotYours,
    NotOnVisit,
    NotReleasedYet,
    RemoteForStaff,
    SlotClosed,
    SlotFull,
    SlotStarted,
)
from appointments.live import slot_places_changed
from appointments.models import Appointment, Hold, Mode, Slot, WaitlistEntry
from appointments.selectors.appointments import (
    appointment_by_idempotency_key,
    hold_live_and_key_for,
)
from appointments.services.messages import messages_for_booking
from appointments.services.places import (
    place_give_back,
    place_take,
    slot_fresh,
    slot_lock,
    slots_lock,
)
from appointments.signals import appointment_booked
from audit.rows import rows_insert
from audit.services import audit_batch, audit_record
from records.models import CareRelationship, Referral
from records.selectors import patient_links
from records.services import care_relationship_grant

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CARE_AFTER_VISIT = dt.timedelta(days=7)


def _new_code() -> str:
    """40 random bits: a clash is left to the unique index (`appointment_book` tries again),
    not looked for with a query in every booking."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# Slot, then hold (the lock order) in one statement: the slot's row is locked by the
# materialised CTE before the UPDATE reaches the hold. Only while the slot is open and the
# hold is this account's, live and on this slot; otherwise nothing, and the usual path says why.
_CONVERT_HOLD = """
WITH locked AS MATERIALIZED (
    SELECT id FROM appointments_slot
    WHERE id = %(slot)s AND closed_at IS NULL AND start > %(now)s
    FOR NO KEY UPDATE
)
UPDATE appointments_hold SET state = 'converted', ended_at = %(now)s
FROM locked
WHERE appointments_hold.id = %(hold)s AND appointments_hold.slot_id = locked.id
    AND appointments_hold.account_id = %(account)s AND appointments_hold.state = 'live'
    AND appointments_hold.expires_at > %(now)s
RETURNING appointments_hold.pool, appointments_hold.referral_id
"""


def _hold_convert(*, hold: Hold, slot: Slot, account: Any, now: dt.datetime):
    """The usual case of a booking from the confirmation page, in one statement (PostgreSQL):
    (pool, referral id) of the converted hold, or None to take the usual path."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            _CONVERT_HOLD, {"slot": slot.pk, "hold": hold.pk, "account": account.pk, "now": now}
        )
        row = cursor.fetchone()
    if row is None:
        return None
    hold.state, hold.ended_at = Hold.State.CONVERTED, now
    return row


def waitlist_promote_on_commit(slot_id: int) -> None:
    def promote() -> None:
        waitlist_promote(slot=Slot(pk=slot_id))

    transaction.on_commit(promote)


# --- Holds ----------------------------------------------------------------------------------


def hold_end(hold: Hold, *, now: dt.datetime, state: str) -> None:
    """Give a live hold's place back (or not, when it became an appointment). The caller holds
    the hold's slot's lock, then the hold's."""
    if state == Hold.State.RELEASED:
        slot = Slot.objects.get(pk=hold.slot_id)
        place_give_back(slot, hold.pool, now=now)
        slot_places_changed(slot=slot)
        waitlist_promote_on_commit(slot.pk)
    hold.state = state
    hold.ended_at = now
    hold.save(update_fields=["state", "ended_at"])


# --- Booking --------------------------------------------------------------------------------


class _AlreadyDone(Exception):
    """Rolls back a duplicate request and hands back the appointment it duplicates."""

    def __init__(self, appointment: Appointment) -> None:
        self.appointment = appointment


def appointment_book_locked(
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
    on_visit: Appointment | None = None,
    by_care_team: bool = False,
    from_waitlist: bool = False,
) -> Appointment:
    """The booking itself; the caller owns the transaction. Locks the slot first, then the
    hold and the referral (the lock order); a reschedule has locked both slots and
    the old appointment before. `from_waitlist`: a promotion, told as one."""
    now = timezone.now()
    cap_account = _check_on_visit(patient=patient, slot=slot, booked_by=booked_by, visit=on_visit)
    staff = on_visit is not None or by_care_team
    if by_care_team:
        cap_account = _care_team_cap_account(patient=patient, slot=slot)
    usual = referral is None and ignore is None and rescheduled_from is None and not staff
    converted = known = None
    key_seen = False
    if hold is not None and usual and slot.start is not None and slot.end is not None:
        converted = _hold_convert(hold=hold, slot=slot, account=booked_by, now=now)
    if converted is not None:
        live_hold = hold
        pool, referral_id = converted
        if referral_id is not None:  # a referral's hold books with its referral (locked last)
            usual = False
            referral = Referral.objects.select_for_update().get(pk=referral_id)
            slot = slot_fresh(slot)
    else:
        # The usual booking locks the slot and reads every rule's facts in one statement.
        known = (
            policies.slot_locked_with_facts(patient=patient, slot=slot, account=booked_by, now=now)
            if usual
            else None
        )
        slot = known[0] if known is not None else slot_lock(slot)
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
                    hold_end(hold, now=now, state=Hold.State.RELEASED)
        else:
            # Holding the slot's row now: a request with the same key that got here first has
            # committed, and this statement sees it (with the account's hold, one round trip).
            live_hold, done_id = hold_live_and_key_for(
                account=booked_by, slot=slot, now=now, key=idempotency_key or ""
            )
            if done_id is not None:
                raise _AlreadyDone(Appointment.objects.get(pk=done_id))
            key_seen = True
        if live_hold is not None and referral is None and live_hold.referral_id:
            referral = live_hold.referral
        if referral is not None:
            referral = Referral.objects.select_for_update().get(pk=referral.pk)

        if live_hold is not None:
            if slot.closed_at is not None:
                raise SlotClosed()
            if now >= slot.start:
                raise SlotStarted()
            pool = live_hold.pool
            live_hold.state = Hold.State.CONVERTED
            live_hold.ended_at = now
            live_hold.save(update_fields=["state", "ended_at"])
        else:
            try:
                policies.check_slot_open(slot=slot, now=now, referral=referral is not None)
                pool = place_take(slot, now=now, referral=referral is not None)
            except SlotFull:
                if ran_out:
                    raise HoldExpired() from None
                raise
    # Holding the slot's row now: a request with the same key that got here first has
    # committed, and this statement sees it.
    existing = (
        None if key_seen else appointment_by_idempotency_key(account=booked_by, key=idempotency_key)
    )
    if existing is not None:
        raise _AlreadyDone(existing)

    if usual and referral is None:
        # One read for every rule (and the slot's site, doctor and department).
        slot = policies.slot_checked_for_booking(
            patient=patient, slot=slot, account=booked_by, now=now, known=known
        )
    else:
        policies.check_patient_policies(
            patient=patient,
            slot=slot,
            account=booked_by if not staff else cap_account,
            now=now,
            ignore=ignore,
            referral=referral,
            on_visit=on_visit,
            by_staff=staff,
        )
    phone_of = booked_by if not staff else cap_account

    (appointment,) = rows_insert(
        Appointment,
        [
            Appointment(
                code=_new_code(),
                patient=patient,
                slot=slot,
                booked_by=booked_by,
                pool=pool,
                referral=referral,
                visit_reason=visit_reason,
                idempotency_key=idempotency_key or "",
                cap_account=cap_account,
                booked_phone=phone_of.phone
                if phone_of is not None and phone_of.phone_verified
                else "",
                rescheduled_from=rescheduled_from,
                sequence=sequence,
                created_at=now,
            )
        ],
    )
    if referral is not None and referral.status != Referral.Status.BOOKED:
        referral.status = Referral.Status.BOOKED
        referral.save(update_fields=["status"])
    with audit_batch():  # the booking's event and its care grant's: one INSERT
        _audit_and_grant(
            appointment,
            slot=slot,
            pool=pool,
            live_hold=live_hold,
            referral=referral,
            rescheduled_from=rescheduled_from,
            on_visit=on_visit,
        )
    messages_for_booking(
        appointment=appointment, rescheduled_from=rescheduled_from, promoted=from_waitlist
    )
    appointment_booked.send(
        sender=Appointment,
        appointment=appointment,
        by=booked_by,
        rescheduled_from=rescheduled_from,
    )
    slot_places_changed(slot=slot)
    return appointment


def _audit_and_grant(
    appointment: Appointment,
    *,
    slot: Slot,
    pool: str,
    live_hold: Hold | None,
    referral: Referral | None,
    rescheduled_from: Appointment | None,
    on_visit: Appointment | None = None,
) -> None:
    patient = appointment.patient
    audit_record(
        actor=appointment.booked_by,
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
            "on_visit": on_visit.code if on_visit is not None else None,
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
            new_source=True,
        )


CODE_ATTEMPTS = 5


def _is_code_clash(error: IntegrityError) -> bool:
    text = str(error)
    return "appointments_appointment_code" in text or "appointment.code" in text


def _check_on_visit(*, patient: Any, slot: Slot, booked_by: Any, visit: Appointment | None):
    """A remote consultation's period is booked only by the doctor of a visit going on, for its
    patient; the booking then counts against the caps of the person's managing account (None
    when nobody manages them), never the doctor's. Returns that account."""
    if visit is None:
        if slot.mode == Mode.REMOTE:
            raise RemoteForStaff()
        return None
    visit = Appointment.objects.select_related("slot__doctor").get(pk=visit.pk)
    if (
        slot.mode != Mode.REMOTE
        or visit.patient_id != patient.pk
        or visit.slot.doctor.user_id != booked_by.pk
        or visit.status not in (Appointment.Status.CHECKED_IN, Appointment.Status.IN_CONSULT)
    ):
        raise NotOnVisit()
    manager = patient_links(patient=patient).filter(is_manager=True).first()
    return manager.account if manager is not None else None


def _care_team_cap_account(*, patient: Any, slot: Slot) -> Any:
    """A family-doctor team books an in-person period for a person of its panel (the caller,
    familydoctors, has checked the signing): the booking counts against the person's managing
    account (None when nobody manages them), never the doctor's."""
    if slot.mode != Mode.IN_PERSON:
        raise NotOnVisit()
    manager = patient_links(patient=patient).filter(is_manager=True).first()
    return manager.account if manager is not None else None


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
    on_visit: Appointment | None = None,
    key_checked: bool = False,
    by_care_team: bool = False,
    from_waitlist: bool = False,
) -> Appointment:
    """Book a place for `patient` (DESIGN.md §3). With a live hold of this account on this
    slot the hold becomes the appointment; otherwise one conditional UPDATE takes a place.
    Raises a `BookingRefused` and leaves nothing behind when a rule says no. The same
    `idempotency_key` from the same account returns the same appointment. `on_visit`: the
    doctor of that visit books a remote consultation for its patient (the patient's caps
    count, not the doctor's); `by_care_team`: a family-doctor team books for a person of its
    panel (familydoctors checked the signing; the patient's caps count). `key_checked`: the
    caller has just looked the key up (the confirmation page does, first); the locked
    transaction looks again either way."""
    if not key_checked:
        existing = appointment_by_idempotency_key(account=booked_by, key=idempotency_key)
        if existing is not None:
            return existing
    for attempt in range(CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                return appointment_book_locked(
                    patient=patient,
                    slot=slot,
                    booked_by=booked_by,
                    hold=hold,
                    idempotency_key=idempotency_key,
                    referral=referral,
                    visit_reason=visit_reason,
                    on_visit=on_visit,
                    by_care_team=by_care_team,
                    from_waitlist=from_waitlist,
                )
        except _AlreadyDone as done:
            return done.appointment
        except IntegrityError as error:
            existing = appointment_by_idempotency_key(account=booked_by, key=idempotency_key)
            if existing is not None:
                return existing
            if _is_patient_slot_clash(error):
                raise AlreadyBooked() from None
            if _is_code_clash(error) and attempt + 1 < CODE_ATTEMPTS:
                continue  # the whole booking rolled back: once more with another code
            raise
        except BookingRefused:
            existing = appointment_by_idempotency_key(account=booked_by, key=idempotency_key)
            if existing is not None:
                return existing
            raise
    raise AssertionError("unreachable")  # pragma: no cover


_SLOT_SAYS_NO = (SlotFull, SlotClosed, SlotStarted, NotReleasedYet)


def waitlist_promote(*, slot: Slot) -> Appointment | None:
    """Book the first waiting entry whose rules pass; entries that fail keep their place in
    the line, and nobody is booked when the slot has no place. Locks the slot, then the
    entries (the lock order), as a closure of the slot does."""
    with transaction.atomic():
        slots_lock([slot.pk])
        entries = list(
            WaitlistEntry.objects.select_for_update()
            .filter(slot_id=slot.pk, state=WaitlistEntry.State.WAITING)
            .select_related("patient", "account")
            .order_by("created_at", "pk")
        )
        for entry in entries:
            try:
                appointment = appointment_book(
                    patient=entry.patient, slot=slot, booked_by=entry.account, from_waitlist=True
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
