"""Holds: the confirmation page keeps a place for a few minutes, then gives it back."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from appointments import errors
from appointments.models import Appointment, Hold
from appointments.services import (
    appointment_book,
    hold_create,
    hold_release,
    release_expired_holds,
)
from tests.appointments.conftest import counters_hold, open_slot, person

pytestmark = pytest.mark.django_db


def test_a_hold_takes_a_place_for_five_minutes():
    slot = open_slot(capacity=1)
    _patient, account = person()

    hold = hold_create(slot=slot, account=account)

    slot.refresh_from_db()
    assert slot.booked == 1 and hold.state == "live" and hold.pool == "public"
    assert hold.expires_at - hold.created_at == dt.timedelta(minutes=5)
    counters_hold(slot)


@override_settings(BOOKING_HOLD_MINUTES=10)
def test_the_hold_length_is_a_setting():
    hold = hold_create(slot=open_slot(), account=person()[1])
    assert hold.expires_at - hold.created_at == dt.timedelta(minutes=10)


def test_while_held_nobody_else_can_take_the_last_place():
    slot = open_slot(capacity=1)
    hold_create(slot=slot, account=person()[1])
    patient, account = person()
    with pytest.raises(errors.SlotFull):
        appointment_book(patient=patient, slot=slot, booked_by=account)
    with pytest.raises(errors.SlotFull):
        hold_create(slot=slot, account=account)


def test_booking_converts_the_hold_without_taking_a_second_place():
    slot = open_slot(capacity=1)
    patient, account = person()
    hold = hold_create(slot=slot, account=account)

    appointment = appointment_book(patient=patient, slot=slot, booked_by=account, hold=hold)

    slot.refresh_from_db()
    hold.refresh_from_db()
    assert slot.booked == 1 and hold.state == "converted"
    assert appointment.pool == "public"
    counters_hold(slot)


def test_the_accounts_live_hold_on_the_slot_is_used_even_when_not_passed():
    slot = open_slot(capacity=1)
    patient, account = person()
    hold_create(slot=slot, account=account)
    appointment_book(patient=patient, slot=slot, booked_by=account)
    slot.refresh_from_db()
    assert slot.booked == 1
    counters_hold(slot)


def test_a_new_hold_releases_the_accounts_previous_one():
    first, second = open_slot(), open_slot()
    _patient, account = person()
    old = hold_create(slot=first, account=account)

    hold_create(slot=second, account=account)

    old.refresh_from_db()
    first.refresh_from_db()
    assert old.state == "released" and first.booked == 0
    counters_hold(first)
    counters_hold(second)


def test_reopening_the_same_slot_renews_the_hold():
    slot = open_slot()
    _patient, account = person()
    hold = hold_create(slot=slot, account=account)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=3)):
        again = hold_create(slot=slot, account=account)
    slot.refresh_from_db()
    assert again.pk == hold.pk and slot.booked == 1
    assert again.expires_at > hold.expires_at


def test_releasing_a_hold_gives_the_place_back():
    slot = open_slot(capacity=1)
    hold = hold_create(slot=slot, account=person()[1])
    hold_release(hold=hold)
    slot.refresh_from_db()
    assert slot.booked == 0
    counters_hold(slot)


def test_expired_holds_give_their_places_back():
    slot = open_slot(capacity=2)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        hold_create(slot=slot, account=person()[1])
        hold_create(slot=slot, account=person()[1])
    with time_machine.travel(start + dt.timedelta(minutes=4, seconds=59), tick=False):
        assert release_expired_holds() == 0
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        assert release_expired_holds() == 2
    slot.refresh_from_db()
    assert slot.booked == 0
    assert not Hold.objects.filter(state="live").exists()
    counters_hold(slot)


def test_an_expired_hold_still_books_when_a_place_is_left():
    slot = open_slot(capacity=2)
    patient, account = person()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        hold = hold_create(slot=slot, account=account)
    with time_machine.travel(start + dt.timedelta(minutes=6), tick=False):
        appointment = appointment_book(patient=patient, slot=slot, booked_by=account, hold=hold)
    slot.refresh_from_db()
    hold.refresh_from_db()
    assert appointment.status == "booked" and hold.state == "released" and slot.booked == 1
    counters_hold(slot)


def test_an_expired_hold_on_a_full_slot_is_refused_as_expired():
    slot = open_slot(capacity=1)
    patient, account = person()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        hold = hold_create(slot=slot, account=account)
    with time_machine.travel(start + dt.timedelta(minutes=6), tick=False):
        release_expired_holds()
        hold_create(slot=slot, account=person()[1])  # someone else takes the place
        with pytest.raises(errors.HoldExpired) as caught:
            appointment_book(patient=patient, slot=slot, booked_by=account, hold=hold)
    assert "ran out" in str(caught.value.message) or caught.value.code == "hold_expired"
    assert not Appointment.objects.exists()
    counters_hold(slot)


def test_a_refused_booking_keeps_the_hold_and_its_place():
    slot = open_slot(capacity=1)
    patient, account = person(consent=False)
    hold = hold_create(slot=slot, account=account)
    with pytest.raises(errors.ConsentMissing):
        appointment_book(patient=patient, slot=slot, booked_by=account, hold=hold)
    hold.refresh_from_db()
    slot.refresh_from_db()
    assert hold.state == "live" and slot.booked == 1
    counters_hold(slot)


def test_a_referral_hold_takes_a_referral_place():
    from tests.factories import ReferralFactory

    slot = open_slot(capacity=0, referral_capacity=1)
    patient, account = person()
    referral = ReferralFactory(patient=patient, to_hospital=slot.site)
    hold = hold_create(slot=slot, account=account, referral=referral)
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account, hold=hold)
    slot.refresh_from_db()
    assert hold.pool == "referral" and appointment.pool == "referral"
    assert appointment.referral == referral and slot.referral_booked == 1
    counters_hold(slot)


def test_submitting_the_same_hold_twice_does_not_book_twice():
    slot = open_slot(capacity=1)
    patient, account = person()
    hold = hold_create(slot=slot, account=account)
    appointment_book(patient=patient, slot=slot, booked_by=account, hold=hold)
    with pytest.raises(errors.SlotFull):
        appointment_book(patient=patient, slot=slot, booked_by=account, hold=hold)
    assert Appointment.objects.count() == 1
    counters_hold(slot)
