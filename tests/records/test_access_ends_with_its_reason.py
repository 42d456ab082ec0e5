"""Access to a record lasts exactly as long as the reason that granted it (DESIGN.md §3).

A doctor booked by a family reads the record; when that appointment is cancelled (by the
family, the hospital or a closure) or moved to another doctor, the doctor's staff record page
is a 404 again — unless another live reason (another appointment with them, a referral, an
open encounter, break-glass) still grants access. A cancelled or expired referral ends its
access at once; a completed one a week after completion.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment
from appointments.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    closure_create,
)
from audit.models import AuditEvent
from records import services as clinical
from records.access import break_glass_open, record_access
from records.models import Referral
from tests.appointments.conftest import later_slot, open_slot, person
from tests.factories import ConsentFactory
from tests.records.conftest import doctor_account, live_consult

pytestmark = pytest.mark.django_db


def _booked_with_a_doctor():
    """A family books a doctor (with an account and a second factor) three days ahead."""
    doctor, doctor_user = doctor_account()
    patient, family = person()
    ConsentFactory(patient=patient, given_by=family, on_behalf="self", kind="record_sharing")
    slot = open_slot(doctor=doctor)
    appointment = appointment_book(patient=patient, slot=slot, booked_by=family)
    return appointment, family, doctor_user


def _staff_page(client, user, patient) -> int:
    client.force_login(user)
    return client.get(reverse("staff_record", args=[patient.public_id])).status_code


def _reads(user, patient) -> bool:
    return record_access(user=user, patient=patient).allowed


def test_a_booked_doctor_reads_the_record(client):
    appointment, _, doctor_user = _booked_with_a_doctor()

    assert _reads(doctor_user, appointment.patient)
    assert _staff_page(client, doctor_user, appointment.patient) == 200


def test_the_familys_cancel_ends_the_doctors_access(client):
    appointment, family, doctor_user = _booked_with_a_doctor()

    appointment_cancel(appointment=appointment, by=family, reason="patient")

    assert not _reads(doctor_user, appointment.patient)
    assert _staff_page(client, doctor_user, appointment.patient) == 404
    assert AuditEvent.objects.filter(action="care_relationship.end").exists()


def test_the_hospitals_cancel_ends_the_doctors_access(client, platform_admin):
    appointment, _, doctor_user = _booked_with_a_doctor()

    appointment_cancel(appointment=appointment, by=platform_admin, reason="hospital")

    assert not _reads(doctor_user, appointment.patient)
    assert _staff_page(client, doctor_user, appointment.patient) == 404


def test_a_closure_that_cancels_the_appointment_ends_the_doctors_access(client, platform_admin):
    appointment, _, doctor_user = _booked_with_a_doctor()
    slot = appointment.slot

    closure_create(
        scope="doctor",
        doctor=slot.doctor,
        starts_at=slot.start - dt.timedelta(hours=1),
        ends_at=slot.end + dt.timedelta(hours=1),
        reason="Conference",
        by=platform_admin,
    )

    appointment.refresh_from_db()
    assert appointment.cancel_reason == "closure"
    assert not _reads(doctor_user, appointment.patient)
    assert _staff_page(client, doctor_user, appointment.patient) == 404


def test_a_reschedule_to_another_doctor_moves_access_to_the_new_doctor(client):
    appointment, family, old_doctor_user = _booked_with_a_doctor()
    new_doctor, new_doctor_user = doctor_account()
    new_slot = open_slot(doctor=new_doctor, start=appointment.slot.start + dt.timedelta(hours=2))

    appointment_reschedule(appointment=appointment, new_slot=new_slot, by=family)

    patient = appointment.patient
    assert not _reads(old_doctor_user, patient)
    assert _staff_page(client, old_doctor_user, patient) == 404
    assert _reads(new_doctor_user, patient)
    assert _staff_page(client, new_doctor_user, patient) == 200


def test_a_reschedule_to_the_same_doctor_keeps_access(client):
    appointment, family, doctor_user = _booked_with_a_doctor()

    appointment_reschedule(
        appointment=appointment, new_slot=later_slot(appointment.slot, hours=2), by=family
    )

    assert _reads(doctor_user, appointment.patient)
    assert _staff_page(client, doctor_user, appointment.patient) == 200


def test_another_live_appointment_with_the_same_doctor_keeps_access(client):
    first, family, doctor_user = _booked_with_a_doctor()
    second = appointment_book(
        patient=first.patient,
        slot=later_slot(first.slot, hours=24, release_at=timezone.now()),
        booked_by=family,
    )

    appointment_cancel(appointment=first, by=family, reason="patient")

    assert Appointment.objects.get(pk=second.pk).status == "booked"
    assert _reads(doctor_user, first.patient)
    assert _staff_page(client, doctor_user, first.patient) == 200
    # ...and cancelling that one too ends it.
    appointment_cancel(appointment=second, by=family, reason="patient")
    assert not _reads(doctor_user, first.patient)


def test_a_cancel_leaves_the_doctors_break_glass_access_alone(client):
    appointment, family, doctor_user = _booked_with_a_doctor()
    break_glass_open(
        user=doctor_user, patient=appointment.patient, reason="Unconscious in A&E, no family"
    )

    appointment_cancel(appointment=appointment, by=family, reason="patient")

    access = record_access(user=doctor_user, patient=appointment.patient)
    assert access.allowed and access.reason == "break_glass"


# --- Referrals ------------------------------------------------------------------------------

ISSUED_AT = dt.datetime(2026, 12, 2, 9, 55, tzinfo=dt.UTC)


@pytest.fixture
def referred(settings):
    """A cloud doctor refers a patient to a named clinic doctor (valid 10 days): the clinic
    doctor reads the record because of the referral alone."""
    settings.REFERRAL_VALID_DAYS = 10
    with time_machine.travel(ISSUED_AT, tick=False):
        appointment, _, cloud_doctor = live_consult()
        receiver, receiver_user = doctor_account()
        referral = clinical.referral_issue(
            encounter=appointment.encounter,
            by=cloud_doctor,
            to_hospital=receiver.hospital,
            to_department=receiver.department,
            to_doctor=receiver,
            reason="需要线下复查",
        )
        assert _reads(receiver_user, referral.patient)
    return referral, cloud_doctor, receiver, receiver_user


def test_a_cancelled_referral_ends_its_access_at_once(client, referred):
    referral, cloud_doctor, _, receiver_user = referred
    with time_machine.travel(ISSUED_AT + dt.timedelta(hours=1), tick=False):
        clinical.referral_cancel(referral=referral, by=cloud_doctor)

        referral.refresh_from_db()
        assert referral.status == Referral.Status.CANCELLED
        assert not _reads(receiver_user, referral.patient)
        assert _staff_page(client, receiver_user, referral.patient) == 404


def test_only_the_issuing_doctor_cancels_an_issued_referral(referred):
    referral, _, _, receiver_user = referred
    with time_machine.travel(ISSUED_AT + dt.timedelta(hours=1), tick=False):
        with pytest.raises(clinical.ClinicalRefused):
            clinical.referral_cancel(referral=referral, by=receiver_user)
        assert _reads(receiver_user, referral.patient)


def test_an_expired_referral_ends_its_access_at_once(client, referred):
    referral, _, _, receiver_user = referred
    with time_machine.travel(referral.valid_until + dt.timedelta(minutes=1), tick=False):
        assert clinical.expire_referrals() == 1

        assert not _reads(receiver_user, referral.patient)
        assert _staff_page(client, receiver_user, referral.patient) == 404


def test_a_completed_referral_grants_access_for_a_week_after_completion(client, referred):
    referral, _, _, receiver_user = referred
    completed_at = ISSUED_AT + dt.timedelta(days=2)
    with time_machine.travel(completed_at, tick=False):
        clinical.referral_complete(referral=referral)

    with time_machine.travel(completed_at + dt.timedelta(days=7, minutes=-1), tick=False):
        assert _reads(receiver_user, referral.patient)
        assert _staff_page(client, receiver_user, referral.patient) == 200
    with time_machine.travel(completed_at + dt.timedelta(days=7), tick=False):
        assert not _reads(receiver_user, referral.patient)
        assert _staff_page(client, receiver_user, referral.patient) == 404


def test_a_referral_ending_leaves_the_receivers_own_booking_alone(referred):
    referral, cloud_doctor, receiver, receiver_user = referred
    with time_machine.travel(ISSUED_AT + dt.timedelta(hours=1), tick=False):
        family = referral.patient.links.get().account
        slot = open_slot(doctor=receiver)
        appointment_book(patient=referral.patient, slot=slot, booked_by=family)

        clinical.referral_cancel(referral=referral, by=cloud_doctor)

        access = record_access(user=receiver_user, patient=referral.patient)
        assert access.allowed and access.reason == "booking"
        assert timezone.now() < slot.start
