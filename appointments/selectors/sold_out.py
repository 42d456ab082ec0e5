"""The refusal a rush is mostly made of, answered from a read: a slot with no place left
(or closed, started, not yet released) is refused from its row as just read, with no lock and
no write, before any booking or hold transaction starts (issue 16).

Only a "no" is answered here. The database stays the authority: a place is taken by the
conditional UPDATE in appointments.services.places, which may still refuse a request this read
let through; a read that says "full" cannot be wrong in the other direction for long, because
counters are only changed by committed transactions and this read sees the last of them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache

from appointments import fixed_sql, policies
from appointments.errors import BookingRefused, ReferralPlacesFull, SlotFull
from appointments.models import Appointment, Hold, Slot
from records.selectors import patients_for_account


def slot_sold_out_refusal(
    *, slot: Slot, now: dt.datetime, referral: bool = False
) -> BookingRefused | None:
    """The refusal a request to take a place of `slot` meets, judged from the counters the
    caller just read without a lock; None when the booking transaction must decide. A live
    hold of the asking account keeps its place: the caller skips this check when there is one.

    Never refuses what `place_take` would grant on the same row: every pool it may take from
    (public, merged referral, referral) counts in `Slot.is_bookable`."""
    try:
        policies.check_slot_open(slot=slot, now=now, referral=referral)
    except BookingRefused as refused:
        return refused
    if slot.is_bookable(now=now, referral=referral):
        return None
    if referral and now < slot.release_at:
        return ReferralPlacesFull()
    return SlotFull()


@dataclass(frozen=True)
class Asker:
    """What a sold-out answer needs to know of the account asking, read in one statement: a
    live hold of its own on the slot (a hold keeps its place: the booking goes on), the code
    of what an earlier submit with this form's key booked in this slot (a retried submit lands
    on it), and the people it may book for, (id, name) in link order, for the waiting-list
    offer."""

    held: bool
    done_code: str | None
    people: list[tuple[int, str]]


def sold_out_asker(*, account, slot: Slot, now: dt.datetime, key: str) -> Asker:
    """One read, no lock (PostgreSQL: fixed text; elsewhere the ORM's three)."""
    if fixed_sql.postgresql():
        return _asker_fixed(account=account, slot=slot, now=now, key=key)
    return _asker_orm(account=account, slot=slot, now=now, key=key)


def _asker_orm(*, account, slot: Slot, now: dt.datetime, key: str) -> Asker:
    done = key and (
        Appointment.objects.filter(booked_by=account, idempotency_key=key, slot=slot)
        .values_list("code", flat=True)
        .first()
    )
    people = patients_for_account(account=account, can_book=True)
    return Asker(
        held=Hold.objects.filter(
            account=account, slot=slot, state=Hold.State.LIVE, expires_at__gt=now
        ).exists(),
        done_code=done or None,
        people=list(people.values_list("pk", "name")),
    )


def _asker_fixed(*, account, slot: Slot, now: dt.datetime, key: str) -> Asker:
    ((held, done_code, ids, names),) = fixed_sql.run(
        _ASKER,
        {
            "account": account.pk,
            "slot": slot.pk,
            "live": Hold.State.LIVE.value,
            "now": now,
            "key": key or "",
        },
        binary=True,
    )
    return Asker(
        held=held, done_code=done_code, people=list(zip(ids or [], names or [], strict=True))
    )


# The same conditions as records.selectors.patients_for_account(can_book=True) and
# appointments.selectors.appointments' key and hold reads; tests/appointments/test_fixed_sql.py
# holds them equal.
_ASKER = (
    "SELECT EXISTS (SELECT 1 FROM appointments_hold h WHERE h.account_id = %(account)s "
    "AND h.slot_id = %(slot)s AND h.state = %(live)s AND h.expires_at > %(now)s), "
    "(SELECT a.code FROM appointments_appointment a WHERE a.booked_by_id = %(account)s "
    "AND a.idempotency_key = %(key)s AND %(key)s <> '' AND a.slot_id = %(slot)s LIMIT 1), "
    "people.ids, people.names "
    "FROM (SELECT array_agg(p.id ORDER BY l.created_at, p.id) AS ids, "
    "array_agg(p.name ORDER BY l.created_at, p.id) AS names "
    "FROM records_patientlink l JOIN records_patient p ON p.id = l.patient_id "
    "WHERE l.account_id = %(account)s AND l.revoked_at IS NULL AND l.can_book) AS people"
)


# --- The rush's early answer (portal.sold_out_early) -------------------------------------------
# A full slot is remembered in the cache for FULL_SECONDS by the commit that took its last place
# (services.places), by a request whose read found it full and by a booking refused full under
# the lock (views.booking), and forgotten at the commit that gives a place back; a booked form
# key is remembered for KEY_SECONDS by the page that booked it. The middleware answers a POST
# for a remembered slot before the session or the account is read, unless its form held a place
# or named a referral, or its key booked already. The flag can only be stale toward "full" for
# FULL_SECONDS after a change the give-back does not see (a capacity raised in the console):
# the database stays the authority for every booking.
FULL_SECONDS = 2
KEY_SECONDS = 600


def _full_key(slot_id: int) -> str:
    return f"slot-full:{slot_id}"


def _booked_key(key: str) -> str:
    return f"booked-key:{key}"


def sold_out_remember(*, slot: Slot) -> None:
    cache.set(_full_key(slot.pk), slot.doctor_id, FULL_SECONDS)


def sold_out_forget(*, slot_id: int) -> None:
    cache.delete(_full_key(slot_id))


def booked_key_remember(*, key: str, code: str) -> None:
    if key:
        cache.set(_booked_key(key), code, KEY_SECONDS)


def sold_out_early(*, slot_id: int, key: str) -> tuple[int | None, str | None]:
    """(the doctor of a slot remembered full, or None; the code a remembered key booked, or
    None): one cache round trip."""
    names = [_full_key(slot_id)] + ([_booked_key(key)] if key else [])
    found = cache.get_many(names)
    return found.get(names[0]), (found.get(names[1]) if key else None)
