"""The database itself holds the place counters within their capacities (DESIGN.md §3).

Run on PostgreSQL too: DATABASE_URL=postgres://… .venv/bin/pytest tests/appointments."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from appointments.models import Slot
from tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "change",
    [
        {"booked": F("capacity") + 1},
        {"referral_booked": F("referral_capacity") + 1},
    ],
)
def test_the_database_refuses_more_places_taken_than_the_pool_holds(change):
    slot = SlotFactory(booked=3, referral_capacity=1, referral_booked=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.filter(pk=slot.pk).update(**change)

    slot.refresh_from_db()
    assert (slot.booked, slot.referral_booked) == (3, 1)


def test_a_negative_counter_is_refused():
    slot = SlotFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.filter(pk=slot.pk).update(booked=F("booked") - 1)


def test_one_slot_per_doctor_start_and_mode():
    slot = SlotFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        SlotFactory(doctor=slot.doctor, start=slot.start)
    SlotFactory(doctor=slot.doctor, start=slot.start, mode="online")


def test_the_conditional_update_takes_the_last_place_once():
    slot = SlotFactory(booked=2)

    taken = [
        Slot.objects.filter(pk=slot.pk, booked__lt=F("capacity")).update(booked=F("booked") + 1)
        for _attempt in range(2)
    ]

    assert taken == [1, 0]


def test_these_tests_ran_on_the_configured_engine():
    # Under CI the suite runs on PostgreSQL; this names the engine in the test report.
    assert connection.vendor in {"sqlite", "postgresql"}
