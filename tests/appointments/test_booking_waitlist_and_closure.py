"""The waiting list of a full slot, and a closure's cancellations."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments import errors
from appointments.models import Appointment
from appointments.services import (
    appointment_book,
    appointment_cancel,
    closure_create,
    waitlist_join,
    waitlist_leave,
    waitlist_promote,
)
from audit.models import AuditEvent
from records.models import Consent
from tests.appointments.conftest import counters_hold, open_slot, person
from tests.conftest import sign_in_recently, with_totp
from tests.factories import StaffMembershipFactory

pytestmark = pytest.mark.django_db


def full_slot():
    slot = open_slot(capacity=1)
    patient, account = person()
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    return slot, appointment, account


def test_joining_the_waiting_list_of_a_slot_with_places_is_refused():
    slot = open_slot(capacity=2)
    patient, account = person()
    with pytest.raises(errors.PlacesLeft):
        waitlist_join(patient=patient, slot=slot, account=account)


def test_joining_checks_the_booking_rules():
    slot, _appointment, _account = full_slot()
    patient, account = person(consent=False)
    with pytest.raises(errors.ConsentMissing):
        waitlist_join(patient=patient, slot=slot, account=account)


def test_a_person_waits_once():
    slot, _appointment, _account = full_slot()
    patient, account = person()
    waitlist_join(patient=patient, slot=slot, account=account)
    with pytest.raises(errors.AlreadyWaiting):
        waitlist_join(patient=patient, slot=slot, account=account)


def test_a_freed_place_goes_to_the_first_in_line(django_capture_on_commit_callbacks):
    slot, appointment, owner = full_slot()
    first_patient, first_account = person()
    second_patient, second_account = person()
    first = waitlist_join(patient=first_patient, slot=slot, account=first_account)
    second = waitlist_join(patient=second_patient, slot=slot, account=second_account)

    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=appointment, by=owner, reason="patient")

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == "promoted" and first.appointment.patient == first_patient
    assert second.state == "waiting"
    assert AuditEvent.objects.filter(action="waitlist.promote").count() == 1
    counters_hold(slot)


def test_an_entry_whose_rules_fail_is_skipped_but_keeps_its_place():
    slot, appointment, owner = full_slot()
    first_patient, first_account = person()
    second_patient, second_account = person()
    first = waitlist_join(patient=first_patient, slot=slot, account=first_account)
    second = waitlist_join(patient=second_patient, slot=slot, account=second_account)
    Consent.objects.filter(patient=first_patient).update(revoked_at=timezone.now())
    appointment_cancel(appointment=appointment, by=owner, reason="patient")

    promoted = waitlist_promote(slot=slot)

    first.refresh_from_db()
    second.refresh_from_db()
    assert promoted.patient == second_patient
    assert first.state == "waiting" and second.state == "promoted"


def test_nobody_is_promoted_while_the_slot_is_full():
    slot, _appointment, _owner = full_slot()
    patient, account = person()
    entry = waitlist_join(patient=patient, slot=slot, account=account)
    assert waitlist_promote(slot=slot) is None
    entry.refresh_from_db()
    assert entry.state == "waiting"
    counters_hold(slot)


def test_leaving_the_waiting_list():
    slot, appointment, owner = full_slot()
    patient, account = person()
    entry = waitlist_join(patient=patient, slot=slot, account=account)
    waitlist_leave(entry=entry, by=account)
    appointment_cancel(appointment=appointment, by=owner, reason="patient")
    assert waitlist_promote(slot=slot) is None


def _close(slot):
    admin = with_totp(StaffMembershipFactory(hospital=slot.site).user)
    return closure_create(
        scope="doctor",
        doctor=slot.doctor,
        starts_at=slot.start - dt.timedelta(hours=1),
        ends_at=slot.end + dt.timedelta(hours=1),
        reason="Conference",
        by=admin,
    )


def test_a_closure_cancels_every_appointment_in_its_slots_with_reason_closure():
    slot = open_slot(capacity=3)
    patients = [person() for _index in range(2)]
    appointments = [appointment_book(patient=p, slot=slot, booked_by=a) for p, a in patients]
    waiting_patient, waiting_account = person()
    slot.capacity = 2
    slot.booked = 2
    slot.save()
    entry = waitlist_join(patient=waiting_patient, slot=slot, account=waiting_account)

    _close(slot)

    for appointment in appointments:
        appointment.refresh_from_db()
        assert appointment.status == "cancelled" and appointment.cancel_reason == "closure"
    slot.refresh_from_db()
    entry.refresh_from_db()
    assert slot.booked == 0 and slot.closed_at is not None
    assert entry.state == "expired"
    counters_hold(slot)


def test_closure_cancellations_never_count_against_the_patient():
    patient, account = person()
    slot = open_slot()
    slot.site.no_show_limit = 1
    slot.site.monthly_cap_per_account = 1
    slot.site.save()
    appointment_book(patient=patient, slot=slot, booked_by=account)
    _close(slot)
    # Neither the cap nor the no-show block counts the closed one.
    again = open_slot(
        doctor=slot.doctor,
        start=slot.start + dt.timedelta(days=1),
        end=slot.end + dt.timedelta(days=1),
    )
    assert appointment_book(patient=patient, slot=again, booked_by=account).status == "booked"


def test_the_console_csv_lists_the_days_appointments_with_masked_ids(client):
    slot = open_slot()
    patient, account = person(name="王小明")
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    admin = with_totp(StaffMembershipFactory(hospital=slot.site).user)
    sign_in_recently(client, admin)
    day = slot.start.astimezone(slot.site.zone).date()
    url = reverse("console_day_csv", kwargs={"hospital_slug": slot.site.slug, "day": day})

    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")

    text = response.content.decode("utf-8-sig")
    assert patient.id_number not in text
    rows = list(csv.reader(io.StringIO(text)))
    blank = rows.index([])
    assert rows[blank + 1][0] == "appointment code"
    assert rows[blank + 2][0] == appointment.code
    assert rows[blank + 2][3:5] == ["王小明", patient.id_number_masked]
    assert "*" in rows[blank + 2][4]


def test_the_console_csv_has_no_appointment_rows_on_an_empty_day(client):
    slot = open_slot()
    admin = with_totp(StaffMembershipFactory(hospital=slot.site).user)
    sign_in_recently(client, admin)
    day = slot.start.astimezone(slot.site.zone).date()
    url = reverse("console_day_csv", kwargs={"hospital_slug": slot.site.slug, "day": day})
    rows = list(csv.reader(io.StringIO(client.get(url).content.decode("utf-8-sig"))))
    assert [] not in rows
    assert not Appointment.objects.exists()
