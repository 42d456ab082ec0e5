"""Search reads each doctor's next free period per mode (NextFreePeriod): the writes that change
a slot's places keep it exact (booking, cancelling, a hold running out, a closure, a rota
publish), and when time alone changes the answer (the period starts, an earlier one is released)
search works it out from the slots until the beat task recomputes the row."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from appointments.models import NextFreePeriod
from appointments.selectors import SearchQuery, search_doctors
from appointments.services import (
    appointment_book,
    appointment_cancel,
    closure_create,
    next_free_periods_refresh_due,
)
from appointments.services.next_free import next_free_periods_compute
from tests.appointments.conftest import later_slot, open_slot, person
from tests.factories import SlotFactory, UserFactory

pytestmark = pytest.mark.django_db


def stored(doctor, mode="in_person"):
    return NextFreePeriod.objects.get(doctor=doctor, mode=mode)


def fresh(doctor, mode="in_person", now=None):
    rows = next_free_periods_compute(doctor_ids=[doctor.pk], now=now or timezone.now())
    return next(row for row in rows if row.mode == mode)


def assert_exact(doctor):
    for mode in ("in_person", "online"):
        assert stored(doctor, mode).start == fresh(doctor, mode).start, mode


@pytest.fixture
def two_periods():
    first = open_slot(capacity=1)
    second = later_slot(first, capacity=1)
    return first, second


def test_booking_the_last_place_moves_the_next_free_period_and_cancelling_brings_it_back(
    two_periods, django_capture_on_commit_callbacks
):
    first, second = two_periods
    doctor = first.doctor
    assert stored(doctor).start == first.start
    patient, account = person()

    with django_capture_on_commit_callbacks(execute=True):
        appointment = appointment_book(patient=patient, slot=first, booked_by=account)
    assert stored(doctor).start == second.start
    assert_exact(doctor)

    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=appointment, by=account, reason="patient")
    assert stored(doctor).start == first.start
    assert_exact(doctor)


def test_filling_a_later_period_leaves_the_row_as_it_was_and_filling_the_first_moves_it(
    two_periods, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    """A release rush fills many periods that are not their doctor's first free one: each
    looks at the row once instead of recomputing it (issue 16), and the row stays exact."""
    first, second = two_periods
    doctor = first.doctor
    computed = stored(doctor).computed_at
    patient, account = person()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        appointment_book(patient=patient, slot=second, booked_by=account)
    with django_assert_max_num_queries(1):
        for callback in callbacks:
            if "refresh" in getattr(callback, "__qualname__", ""):
                callback()
    assert stored(doctor).computed_at == computed  # not rewritten
    assert stored(doctor).start == first.start
    assert_exact(doctor)

    other, _account = person(account, relationship="child")
    with django_capture_on_commit_callbacks(execute=True):
        appointment_book(patient=other, slot=first, booked_by=account)
    assert stored(doctor).start is None  # both full now
    assert_exact(doctor)


def test_a_closure_moves_the_next_free_period_past_the_closed_slots(
    two_periods, django_capture_on_commit_callbacks
):
    first, second = two_periods
    admin = UserFactory(is_superuser=True, is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        closure_create(
            scope="doctor",
            doctor=first.doctor,
            starts_at=first.start,
            ends_at=first.end,
            reason="Conference",
            by=admin,
        )
    assert stored(first.doctor).start == second.start
    assert_exact(first.doctor)


def test_a_doctor_with_nothing_free_has_a_row_without_a_start(two_periods):
    first, _ = two_periods
    row = stored(first.doctor, "online")
    assert row.start is None and row.valid_until is None


def test_when_the_period_starts_search_works_out_the_next_one_until_the_beat_recomputes_it(
    two_periods,
):
    first, second = two_periods
    assert stored(first.doctor).valid_until == first.start
    query = SearchQuery(text=first.doctor.name)
    with time_machine.travel(first.start + dt.timedelta(minutes=1)):
        # The row is stale: search reads the slots for this doctor instead.
        [result] = search_doctors(query=query)
        assert result.first_free == second.start
        assert [period.pk for period in result.periods] == [second.pk]
        assert next_free_periods_refresh_due() == 2
        assert stored(first.doctor).start == second.start
        [result] = search_doctors(query=query)
        assert result.first_free == second.start


def test_a_release_ends_the_row_when_everything_released_before_it_is_full():
    full = open_slot(capacity=1, booked=1)
    day = full.start + dt.timedelta(days=1)
    unreleased = SlotFactory(
        doctor=full.doctor,
        start=day,
        end=day + dt.timedelta(minutes=30),
        release_at=timezone.now() + dt.timedelta(hours=2),
    )
    row = stored(full.doctor)
    assert row.start is None
    assert row.valid_until == unreleased.release_at
    with time_machine.travel(unreleased.release_at + dt.timedelta(seconds=1)):
        [result] = search_doctors(query=SearchQuery(text=full.doctor.name))
        assert result.first_free == unreleased.start
        next_free_periods_refresh_due()
        assert stored(full.doctor).start == unreleased.start


def test_unused_referral_places_joining_the_public_pool_end_the_row():
    merged = open_slot(capacity=1, booked=1, referral_capacity=1)
    later = later_slot(merged, hours=30, capacity=1)
    row = stored(merged.doctor)
    assert row.start == later.start
    assert row.valid_until == merged.referral_merge_at
    with time_machine.travel(merged.referral_merge_at + dt.timedelta(seconds=1)):
        next_free_periods_refresh_due()
        assert stored(merged.doctor).start == merged.start


def test_the_beat_writes_the_rows_of_doctors_whose_slots_were_written_in_bulk(two_periods):
    first, _ = two_periods
    NextFreePeriod.objects.all().delete()
    assert search_doctors(query=SearchQuery(text=first.doctor.name)) == []
    next_free_periods_refresh_due()
    assert stored(first.doctor).start == first.start
