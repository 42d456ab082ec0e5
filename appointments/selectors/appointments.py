"""Reads of an account's appointments and the people it books for. Every read that names an
appointment is scoped to the asking account, so anything else is simply not found."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from appointments import fixed_sql
from appointments.models import ACTIVE_STATUSES, Appointment, Hold, Slot
from records.models import Patient, Referral
from records.selectors import account_acts_for, patient_links_for_account, patients_for_account


def _linked_patient_ids(account) -> QuerySet:
    """Ids of the people an account may book for or read about through a live link."""
    return (
        patient_links_for_account(account=account)
        .filter(Q(can_book=True) | Q(can_read_record=True))
        .values("patient_id")
    )


def appointments_for_account(*, account) -> QuerySet[Appointment]:
    """Every appointment of every person the account has a live link to (booking or reading),
    with everything the list shows, in one query."""
    if not account.is_authenticated:
        return Appointment.objects.none()
    # `consultation` is telemedicine's reverse one-to-one (named, never imported): the room
    # link and the .ics location of online appointments come in the same query.
    return Appointment.objects.filter(patient_id__in=_linked_patient_ids(account)).select_related(
        "patient",
        "slot",
        "slot__doctor",
        "slot__site",
        "slot__department",
        "consultation",
        "queue",
    )


def appointments_upcoming_and_past(
    *, account, now: dt.datetime | None = None
) -> tuple[list[Appointment], list[Appointment]]:
    """(upcoming soonest first, past latest first); a period that has not ended is upcoming."""
    now = now or timezone.now()
    upcoming, past = [], []
    for appointment in appointments_for_account(account=account).order_by("slot__start", "pk"):
        (upcoming if appointment.slot.end > now else past).append(appointment)
    past.reverse()
    return upcoming, past


def appointment_in_slot_for_account(*, account, slot) -> Appointment | None:
    """A live (booked) appointment in this slot of a person the account acts for, or None: the
    confirmation page then takes no hold (going Back after booking must not take a place).

    With its person only, which is what the page says of it: joined with every relation of
    `appointments_for_account`, PostgreSQL spent 6 ms planning the statement for 0.2 ms of
    running it, on every confirmation page."""
    if not account.is_authenticated:
        return None
    return (
        Appointment.objects.filter(
            slot=slot,
            status=Appointment.Status.BOOKED,
            patient_id__in=_linked_patient_ids(account),
        )
        .select_related("patient")
        .order_by("pk")
        .first()
    )


def appointment_for_account(*, account, code: str) -> Appointment | None:
    """The appointment with this code if the account is linked to its patient, else None."""
    return appointments_for_account(account=account).filter(code=code).first()


def people_to_book_for(*, account) -> QuerySet:
    """The people this account may book for (live links with `can_book`)."""
    return patients_for_account(account=account, can_book=True)


# A Patient's id is a bigint: anything past it names nobody (and PostgreSQL would refuse it).
_LARGEST_ID = 2**63 - 1


def person_to_book_for(*, account, pk: Any) -> Patient | None:
    """One of `people_to_book_for(account=...)` by its id (as a form posts it), or None when it
    is not one of them or not an id at all. The booking form's choice: fixed SQL on PostgreSQL
    (building the queryset's lookup was a tenth of the web workers' time in
    bench/http_rush.py)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    if not account.is_authenticated or not 0 < pk <= _LARGEST_ID:
        return None
    if not fixed_sql.postgresql():
        return _person_orm(account, pk)
    return _person_fixed(account, pk)


def _person_orm(account, pk: int) -> Patient | None:
    return people_to_book_for(account=account).filter(pk=pk).first()


def _person_fixed(account, pk: int) -> Patient | None:
    rows = fixed_sql.run(_person_sql(), {"pk": pk, "account": account.pk})
    return fixed_sql.loaded(Patient, rows[0]) if rows else None


@cache
def _person_sql() -> str:
    return (
        f"SELECT {fixed_sql.columns(Patient, 'p')} FROM records_patient p "  # noqa: S608 (column names; values are parameters)
        "WHERE p.id = %(pk)s AND EXISTS (SELECT 1 FROM records_patientlink l "
        "WHERE l.patient_id = p.id AND l.account_id = %(account)s "
        "AND l.revoked_at IS NULL AND l.can_book)"
    )


def referrals_usable_for(*, account, slot: Slot, now: dt.datetime | None = None) -> list:
    """Issued, unexpired referrals of people this account books for that may take this slot's
    referral places (the slot's hospital, and its department or doctor when named)."""

    now = now or timezone.now()
    referrals = (
        Referral.objects.filter(
            patient__in=people_to_book_for(account=account),
            status=Referral.Status.ISSUED,
            valid_until__gt=now,
            to_hospital_id__in={slot.site_id, slot.doctor.hospital_id},
        )
        .filter(Q(to_department__isnull=True) | Q(to_department_id=slot.department_id))
        .filter(Q(to_doctor__isnull=True) | Q(to_doctor_id=slot.doctor_id))
        .select_related("patient")
        .order_by("valid_until")
    )
    return list(referrals)


def appointment_by_idempotency_key(*, account, key: str | None) -> Appointment | None:
    """The appointment this account already booked with this key (a retried submit, a
    double-clicked form, a FHIR client's retry); None without a key, and no query then."""
    if not key or not account.is_authenticated:
        return None
    if not fixed_sql.postgresql():
        return Appointment.objects.filter(booked_by=account, idempotency_key=key).first()
    # The sold-out answer of a rush asks it on every POST: fixed text, not a compiled queryset
    # (appointments.fixed_sql). Under the booking's lock `hold_live_and_key_for` asks it.
    rows = fixed_sql.run(_BY_KEY(), {"account": account.pk, "key": key})
    return fixed_sql.loaded(Appointment, rows[0]) if rows else None


# What the fixed reads below match: an account's booking by its key, its live hold on a slot.
_KEY_MATCH = "a.booked_by_id = %(account)s AND a.idempotency_key = %(key)s"
_HOLD_MATCH = "h.account_id = %(account)s AND h.slot_id = %(slot)s AND h.state = %(live)s"


@cache
def _BY_KEY() -> str:
    return (
        f"SELECT {fixed_sql.columns(Appointment, 'a')} FROM appointments_appointment a "  # noqa: S608 (column names; values are parameters)
        f"WHERE {_KEY_MATCH}"
    )


def hold_live_for(*, account, slot: Slot, now: dt.datetime | None = None, lock: bool = False):
    """The account's live hold on this slot, or None; only one unexpired at `now` when `now`
    is given, and locked (FOR UPDATE) when `lock`, for the booking transaction."""
    if not fixed_sql.postgresql():
        holds = Hold.objects.filter(account=account, slot=slot, state=Hold.State.LIVE)
        if now is not None:
            holds = holds.filter(expires_at__gt=now)
        if lock:
            holds = holds.select_for_update()
        return holds.order_by("pk").first()
    rows = fixed_sql.run(
        _LIVE_HOLD(lock),
        {
            "account": account.pk,
            "slot": slot.pk,
            "live": Hold.State.LIVE.value,
            "now": now,
        },
    )
    return fixed_sql.loaded(Hold, rows[0]) if rows else None


def hold_live_and_key_for(*, account, slot: Slot, now: dt.datetime, key: str):
    """Under the slot's lock, in one statement on PostgreSQL: (the account's live unexpired
    hold on this slot, locked FOR UPDATE, or None; the id of what an earlier submit with this
    idempotency key booked, or None). Elsewhere two reads."""
    if not fixed_sql.postgresql():
        done = appointment_by_idempotency_key(account=account, key=key)
        hold = hold_live_for(account=account, slot=slot, now=now, lock=True)
        return hold, done.pk if done is not None else None
    (row,) = fixed_sql.run(
        _HOLD_AND_KEY(),
        {
            "account": account.pk,
            "slot": slot.pk,
            "live": Hold.State.LIVE.value,
            "now": now,
            "key": key or "",
        },
    )
    return fixed_sql.loaded(Hold, row), row[-1]


@cache
def _HOLD_AND_KEY() -> str:
    return (
        f"SELECT {fixed_sql.columns(Hold, 'h')}, "  # noqa: S608 (column names; values are parameters)
        f"(SELECT a.id FROM appointments_appointment a WHERE {_KEY_MATCH} AND %(key)s <> '') "
        "FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT * FROM appointments_hold h "
        f"WHERE {_HOLD_MATCH} AND h.expires_at > %(now)s ORDER BY h.id LIMIT 1 FOR UPDATE) "
        "AS h ON true"
    )


@cache
def _LIVE_HOLD(lock: bool) -> str:
    return (
        f"SELECT {fixed_sql.columns(Hold, 'h')} FROM appointments_hold h "  # noqa: S608 (column names; values are parameters)
        f"WHERE {_HOLD_MATCH} "
        "AND (%(now)s::timestamptz IS NULL OR h.expires_at > %(now)s) ORDER BY h.id LIMIT 1"
        + (" FOR UPDATE" if lock else "")
    )


def account_may_act_for_appointment(*, account: Any, appointment: Appointment) -> bool:
    """Whether the account may cancel, reschedule or rebook this appointment as the patient's
    side: only through a live link to the patient that may book. Having booked it gives no
    right of its own, so a revoked link (or one that lost `can_book`) stops here too."""
    return account_acts_for(account=account, patient=appointment.patient_id, can_book=True)


def future_appointments_count(*, patient: Any) -> int:
    """For records (its `future_appointments_counted` signal): a person with active future
    appointments is not edited or removed."""
    return Appointment.objects.filter(
        patient=patient, status__in=ACTIVE_STATUSES, slot__end__gt=timezone.now()
    ).count()
