"""Cancelling frees the place; rescheduling moves in one transaction, both or neither."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import translation

from appointments import errors
from appointments.models import Appointment
from appointments.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
)
from appointments.signals import appointment_cancelled
from audit.models import AuditEvent
from records.signals import future_appointments_count
from tests.appointments.conftest import counters_hold, later_slot, open_slot, person
from tests.factories import ReferralFactory, UserFactory

pytestmark = pytest.mark.django_db


def booked(**slot_fields):
    slot = open_slot(**slot_fields)
    patient, account = person()
    return appointment_book(patient=patient, slot=slot, booked_by=account), account


def test_the_patient_cancels_before_the_cut_off_and_the_place_frees():
    appointment, account = booked(capacity=1)
    told = []
    appointment_cancelled.connect(lambda **kw: told.append(kw), weak=False, dispatch_uid="c")
    try:
        cancelled = appointment_cancel(appointment=appointment, by=account, reason="patient")
    finally:
        appointment_cancelled.disconnect(dispatch_uid="c")

    slot = cancelled.slot
    slot.refresh_from_db()
    assert cancelled.status == "cancelled" and cancelled.cancel_reason == "patient"
    assert cancelled.sequence == 1
    assert slot.booked == 0
    assert told[0]["reason"] == "patient"
    event = AuditEvent.objects.get(action="appointment.cancel")
    assert event.data == {"from": "booked", "to": "cancelled", "why": "patient"}
    counters_hold(slot)


def test_the_patient_cannot_cancel_after_the_cut_off():
    appointment, account = booked()
    cutoff = appointment.slot.start - dt.timedelta(hours=2)
    with time_machine.travel(cutoff + dt.timedelta(seconds=1), tick=False):
        with translation.override("en"), pytest.raises(errors.CancelTooLate) as caught:
            appointment_cancel(appointment=appointment, by=account, reason="patient")
        assert "2 hours before" in str(caught.value.message)
    appointment.refresh_from_db()
    assert appointment.status == "booked"
    with time_machine.travel(cutoff, tick=False):
        appointment_cancel(appointment=appointment, by=account, reason="patient")


def test_the_hospital_may_cancel_after_the_cut_off():
    appointment, _account = booked()
    with time_machine.travel(appointment.slot.start - dt.timedelta(minutes=10), tick=False):
        appointment_cancel(appointment=appointment, by=UserFactory(), reason="hospital")
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"


def test_another_account_cannot_cancel_as_the_patient():
    appointment, _account = booked()
    with pytest.raises(errors.PatientNotLinked):
        appointment_cancel(appointment=appointment, by=UserFactory(), reason="patient")


def test_a_cancelled_appointment_cannot_be_cancelled_again():
    appointment, account = booked()
    appointment_cancel(appointment=appointment, by=account, reason="patient")
    with pytest.raises(errors.IllegalTransition):
        appointment_cancel(appointment=appointment, by=account, reason="patient")
    slot = appointment.slot
    slot.refresh_from_db()
    assert slot.booked == 0


def test_cancelling_a_referral_booking_frees_the_referral_place_and_the_referral():
    slot = open_slot(capacity=0, referral_capacity=1)
    patient, account = person()
    referral = ReferralFactory(patient=patient, to_hospital=slot.site)
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account, referral=referral)
    appointment_cancel(appointment=appointment, by=account, reason="patient")
    slot.refresh_from_db()
    referral.refresh_from_db()
    assert slot.referral_booked == 0 and referral.status == "issued"
    counters_hold(slot)


def test_reschedule_moves_the_appointment_and_links_the_two():
    appointment, account = booked()
    new_slot = later_slot(appointment.slot, hours=3)

    new = appointment_reschedule(appointment=appointment, new_slot=new_slot, by=account)

    appointment.refresh_from_db()
    new_slot.refresh_from_db()
    assert appointment.status == "cancelled" and appointment.cancel_reason == "rescheduled"
    assert new.rescheduled_from == appointment and new.slot == new_slot
    assert new.sequence == 1
    assert new_slot.booked == 1
    counters_hold(appointment.slot)
    counters_hold(new_slot)


def test_reschedule_ignores_the_appointment_it_replaces():
    # Same doctor, same session: only allowed because the old one is being replaced.
    appointment, account = booked()
    new_slot = later_slot(appointment.slot, hours=1, rule=appointment.slot.rule)
    new = appointment_reschedule(appointment=appointment, new_slot=new_slot, by=account)
    assert new.status == "booked"


def test_a_full_new_slot_leaves_the_old_appointment_untouched():
    appointment, account = booked()
    full = later_slot(appointment.slot, hours=3, capacity=0)

    with pytest.raises(errors.SlotFull):
        appointment_reschedule(appointment=appointment, new_slot=full, by=account)

    appointment.refresh_from_db()
    assert appointment.status == "booked" and appointment.sequence == 0
    assert Appointment.objects.count() == 1
    counters_hold(appointment.slot)
    counters_hold(full)


def test_reschedule_after_the_cut_off_is_refused():
    appointment, account = booked()
    new_slot = later_slot(appointment.slot, hours=3)
    late = appointment.slot.start - dt.timedelta(hours=1)
    with time_machine.travel(late, tick=False), pytest.raises(errors.CancelTooLate):
        appointment_reschedule(appointment=appointment, new_slot=new_slot, by=account)


def test_a_referral_booking_keeps_its_referral_when_moved():
    slot = open_slot(capacity=0, referral_capacity=1)
    patient, account = person()
    referral = ReferralFactory(patient=patient, to_hospital=slot.site)
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account, referral=referral)
    new_slot = later_slot(slot, hours=3, capacity=0, referral_capacity=1)

    new = appointment_reschedule(appointment=appointment, new_slot=new_slot, by=account)

    referral.refresh_from_db()
    assert new.referral == referral and new.pool == "referral"
    assert referral.status == "booked"
    counters_hold(slot)
    counters_hold(new_slot)


def test_a_person_with_an_appointment_ahead_counts_for_records():
    appointment, account = booked()
    assert future_appointments_count(patient=appointment.patient) == 1
    appointment_cancel(appointment=appointment, by=account, reason="patient")
    assert future_appointments_count(patient=appointment.patient) == 0


def test_records_refuses_to_remove_a_person_with_an_appointment_ahead():
    from django.core.exceptions import ValidationError

    from records.services import patient_remove

    appointment, account = booked()
    with pytest.raises(ValidationError):
        patient_remove(patient=appointment.patient, account=account)
    appointment_cancel(appointment=appointment, by=account, reason="patient")
    patient_remove(patient=appointment.patient, account=account)
