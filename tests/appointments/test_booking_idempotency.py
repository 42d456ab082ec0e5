"""A double click or a retried request books once."""

from __future__ import annotations

import pytest

from appointments.models import Appointment
from appointments.services import appointment_book
from tests.appointments.conftest import counters_hold, open_slot, person

pytestmark = pytest.mark.django_db


def test_the_same_key_returns_the_same_appointment():
    slot = open_slot()
    patient, account = person()
    first = appointment_book(patient=patient, slot=slot, booked_by=account, idempotency_key="k1")
    again = appointment_book(patient=patient, slot=slot, booked_by=account, idempotency_key="k1")
    assert again.pk == first.pk
    assert Appointment.objects.count() == 1
    slot.refresh_from_db()
    assert slot.booked == 1
    counters_hold(slot)


def test_the_same_key_after_the_slot_filled_still_returns_the_appointment():
    slot = open_slot(capacity=1)
    patient, account = person()
    first = appointment_book(patient=patient, slot=slot, booked_by=account, idempotency_key="k")
    assert (
        appointment_book(patient=patient, slot=slot, booked_by=account, idempotency_key="k")
        == first
    )


def test_another_account_with_the_same_key_books_its_own():
    slot = open_slot()
    patient, account = person()
    other_patient, other_account = person()
    one = appointment_book(patient=patient, slot=slot, booked_by=account, idempotency_key="k")
    two = appointment_book(
        patient=other_patient, slot=slot, booked_by=other_account, idempotency_key="k"
    )
    assert one.pk != two.pk
