"""The lock order (appointments.services): Slot → Appointment → Consultation → Encounter →
the rest, rows of one table by primary key. Each test runs two real code paths that lock the
same rows; `lock_step` makes each take its first lock before either takes its second, so two
paths in opposite orders deadlock on the first round (PostgreSQL's DeadlockDetected), and in
one order they never do."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection

from appointments.errors import BookingRefused
from appointments.models import Appointment, Slot
from appointments.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    closure_create,
    hold_create,
    waitlist_join,
    waitlist_promote,
)
from tests.appointments.conftest import counters_hold, later_slot, open_slot, person
from tests.concurrency import lock_step
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("races")]

ROUNDS = 50


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and deadlocks need PostgreSQL")


def _rounds():
    """A slot of one doctor per round, four hours apart, so one round's closure (the slot's
    time ± 1 hour) never reaches another round's slots."""
    first = open_slot(capacity=2)
    yield first
    for index in range(1, ROUNDS):
        yield later_slot(first, hours=4 * index, capacity=2, release_at=first.release_at)


def _closure_of(slot: Slot, admin):
    return lambda: closure_create(
        scope="doctor",
        doctor=slot.doctor,
        starts_at=slot.start - dt.timedelta(hours=1),
        ends_at=slot.end + dt.timedelta(hours=1),
        reason="Conference",
        by=admin,
    )


def _no_database_errors(results) -> None:
    errors = [r for r in results if isinstance(r, DatabaseError)]
    assert not errors, errors
    assert all(not isinstance(r, Exception) or isinstance(r, BookingRefused) for r in results), (
        results
    )


def test_a_closure_and_a_patients_cancel_of_the_same_slot_never_deadlock():
    admin = UserFactory(is_staff=True)
    for slot in _rounds():
        patient, account = person()
        appointment = appointment_book(patient=patient, slot=slot, booked_by=account)

        results = lock_step(
            [
                _closure_of(slot, admin),
                lambda a=appointment, by=account: appointment_cancel(
                    appointment=a, by=by, reason="patient"
                ),
            ]
        )

        _no_database_errors(results)
        appointment.refresh_from_db()
        assert appointment.status == Appointment.Status.CANCELLED
        counters_hold(slot)


def test_a_closure_and_a_reschedule_out_of_the_closed_slot_never_deadlock():
    admin = UserFactory(is_staff=True)
    for slot in _rounds():
        other = later_slot(slot, hours=1, capacity=2, release_at=slot.release_at)
        patient, account = person()
        appointment = appointment_book(patient=patient, slot=slot, booked_by=account)

        results = lock_step(
            [
                _closure_of(slot, admin),
                lambda a=appointment, s=other, by=account: appointment_reschedule(
                    appointment=a, new_slot=s, by=by
                ),
            ]
        )

        _no_database_errors(results)
        appointment.refresh_from_db()
        assert appointment.status == Appointment.Status.CANCELLED
        counters_hold(slot)
        counters_hold(other)


def test_a_waitlist_promotion_and_a_closure_of_its_slot_never_deadlock():
    admin = UserFactory(is_staff=True)
    for slot in _rounds():
        Slot.objects.filter(pk=slot.pk).update(capacity=1)
        patient, account = person()
        appointment_book(patient=patient, slot=slot, booked_by=account)
        waiting, waiting_account = person()
        waitlist_join(patient=waiting, slot=slot, account=waiting_account)
        # A second place opens without promoting anyone, so the promotion below has one.
        Slot.objects.filter(pk=slot.pk).update(capacity=2)

        results = lock_step([lambda s=slot: waitlist_promote(slot=s), _closure_of(slot, admin)])

        _no_database_errors(results)
        counters_hold(slot)


def test_two_accounts_swapping_their_held_slots_never_deadlock():
    for first in _rounds():
        second = later_slot(first, hours=1, capacity=2, release_at=first.release_at)
        one, other = person()[1], person()[1]
        hold_create(slot=first, account=one)
        hold_create(slot=second, account=other)

        # Each takes its two locks (its hold or a slot, then a slot) before either takes its
        # third: one gives `first` back and wants `second`, the other the reverse.
        results = lock_step(
            [
                lambda a=one, s=second: hold_create(slot=s, account=a),
                lambda a=other, s=first: hold_create(slot=s, account=a),
            ],
            pause_after=[2, 2],
        )

        _no_database_errors(results)
        counters_hold(first)
        counters_hold(second)
