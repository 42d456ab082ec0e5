"""Release: nothing is bookable one second before, everything one second after."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from appointments import errors
from appointments.models import Appointment
from appointments.services import appointment_book, hold_create
from tests.appointments.conftest import counters_hold, open_slot, person
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db

SECOND = dt.timedelta(seconds=1)


def test_public_places_open_exactly_at_release():
    slot = open_slot(capacity=3)
    people = [person() for _index in range(3)]

    with time_machine.travel(slot.release_at - SECOND, tick=False):
        for patient, account in people:
            with pytest.raises(errors.NotReleasedYet):
                appointment_book(patient=patient, slot=slot, booked_by=account)
        with pytest.raises(errors.NotReleasedYet):
            hold_create(slot=slot, account=people[0][1])
    assert not Appointment.objects.exists()

    with time_machine.travel(slot.release_at + SECOND, tick=False):
        for patient, account in people:
            appointment_book(patient=patient, slot=slot, booked_by=account)
    slot.refresh_from_db()
    assert slot.booked == 3
    counters_hold(slot)


def test_referral_places_open_exactly_at_their_release():
    slot = open_slot(capacity=1, referral_capacity=2)
    people = [person() for _index in range(2)]
    referrals = [ReferralFactory(patient=p, to_hospital=slot.site) for p, _a in people]

    with time_machine.travel(slot.referral_release_at - SECOND, tick=False):
        for (patient, account), referral in zip(people, referrals, strict=True):
            with pytest.raises(errors.NotReleasedYet):
                appointment_book(patient=patient, slot=slot, booked_by=account, referral=referral)
    with time_machine.travel(slot.referral_release_at + SECOND, tick=False):
        # Public places are still closed for everyone else.
        stranger, stranger_account = person()
        with pytest.raises(errors.NotReleasedYet):
            appointment_book(patient=stranger, slot=slot, booked_by=stranger_account)
        for (patient, account), referral in zip(people, referrals, strict=True):
            appointment = appointment_book(
                patient=patient, slot=slot, booked_by=account, referral=referral
            )
            assert appointment.pool == "referral"
    slot.refresh_from_db()
    assert slot.referral_booked == 2 and slot.booked == 0
    counters_hold(slot)
