"""Thirty people want the last place at once: exactly one gets it, nobody overbooks.

Meant for PostgreSQL (`DATABASE_URL=postgres://…`, with `DATABASE_POOL_MAX=35` so every racer
has a connection); on SQLite the IMMEDIATE transactions serialise writers and the same
assertions hold.
"""

from __future__ import annotations

import pytest

from appointments import errors
from appointments.models import Appointment
from appointments.services import appointment_book, hold_create
from tests.appointments.conftest import counters_hold, open_slot, person
from tests.concurrency import race
from tests.factories import ReferralFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("races")]

RACERS = 30


def _booker(patient, slot, account, **kwargs):
    return lambda: appointment_book(patient=patient, slot=slot, booked_by=account, **kwargs)


def _one_winner(results) -> None:
    winners = [r for r in results if isinstance(r, Appointment)]
    losers = [r for r in results if not isinstance(r, Appointment)]
    assert len(winners) == 1, results
    assert all(isinstance(r, errors.SlotFull) for r in losers), losers


def test_thirty_racers_for_the_last_public_place_one_wins():
    slot = open_slot(capacity=3, booked=0)
    # Two places already gone to holds, so one is left.
    hold_create(slot=slot, account=person()[1])
    hold_create(slot=slot, account=person()[1])
    people = [person() for _index in range(RACERS)]

    results = race([_booker(p, slot, a) for p, a in people])

    _one_winner(results)
    slot.refresh_from_db()
    assert slot.booked == 3
    counters_hold(slot)


def test_thirty_racers_for_the_last_referral_place_one_wins():
    slot = open_slot(capacity=0, referral_capacity=1)
    people = [person() for _index in range(RACERS)]
    calls = [
        _booker(p, slot, a, referral=ReferralFactory(patient=p, to_hospital=slot.site))
        for p, a in people
    ]

    results = race(calls)

    _one_winner(results)
    slot.refresh_from_db()
    assert slot.referral_booked == 1 and slot.booked == 0
    counters_hold(slot)


def test_thirty_holds_for_the_last_place_one_wins():
    slot = open_slot(capacity=1)
    accounts = [person()[1] for _index in range(RACERS)]

    results = race([lambda a=a: hold_create(slot=slot, account=a) for a in accounts])

    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, errors.SlotFull) for r in results if isinstance(r, Exception))
    counters_hold(slot)


def test_the_same_idempotency_key_from_ten_requests_books_once():
    slot = open_slot(capacity=5)
    patient, account = person()

    results = race([_booker(patient, slot, account, idempotency_key="double-click")] * 10)

    assert all(isinstance(r, Appointment) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Appointment.objects.count() == 1
    slot.refresh_from_db()
    assert slot.booked == 1
    counters_hold(slot)


def test_one_account_opening_the_confirmation_page_twice_at_once_holds_one_place():
    slot = open_slot(capacity=5)
    account = person()[1]

    results = race([lambda: hold_create(slot=slot, account=account)] * 2)

    assert all(not isinstance(r, Exception) for r in results), results
    assert results[0].pk == results[1].pk
    slot.refresh_from_db()
    assert slot.booked == 1
    counters_hold(slot)
