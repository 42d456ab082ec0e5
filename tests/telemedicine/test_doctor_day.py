"""/doctor/: the signed-in doctor's sessions of today, online and in person, with each patient's
state; "start" opens an online consult's room. Nobody else's patients, and no page for
accounts that are not doctors."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine

from appointments.models import Appointment
from appointments.services import appointment_book, appointment_check_in
from tests.appointments.conftest import person
from tests.factories import DoctorFactory, SlotFactory, UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING = dt.datetime(2026, 12, 2, 8, 0, tzinfo=SHANGHAI)


def _booked(doctor, *, hour: int, mode: str, **patient_fields):
    start = MORNING.replace(hour=hour)
    slot = SlotFactory(doctor=doctor, mode=mode, start=start, end=start + dt.timedelta(minutes=30))
    patient, account = person(**patient_fields)
    return appointment_book(patient=patient, slot=slot, booked_by=account)


@pytest.fixture
def morning():
    with time_machine.travel(MORNING, tick=False):
        yield


@pytest.fixture
def doctor(morning):
    return DoctorFactory(user=UserFactory())


def test_the_day_lists_online_and_in_person_patients_and_starts_only_online_ones(client, doctor):
    online = _booked(doctor, hour=9, mode="online")
    in_person = _booked(doctor, hour=10, mode="in_person")
    elsewhere = _booked(DoctorFactory(user=UserFactory()), hour=9, mode="online")
    SlotFactory(doctor=doctor, start=MORNING + dt.timedelta(days=1))
    client.force_login(doctor.user)
    response = client.get("/doctor/")
    html = response.content.decode()
    assert response.status_code == 200
    assert online.patient.name in html and in_person.patient.name in html
    assert online.patient.id_number_masked in html
    assert elsewhere.patient.name not in html
    assert f"/consult/{online.consultation.public_id}/" in html
    assert f"/consult/{elsewhere.consultation.public_id}/" not in html
    assert html.count('class="button"') == 1  # one "start": the online consult
    # Tomorrow's slot is not listed: the header row and today's two rows only.
    assert html.count("<tr>") == 1 + 2


def test_the_day_shows_each_patients_reason_and_age_and_the_days_counts(client, doctor):
    child = _booked(doctor, hour=9, mode="in_person", birth_date=dt.date(2019, 6, 1))
    child.visit_reason = "发热两天"
    child.save(update_fields=["visit_reason"])
    seen = _booked(doctor, hour=10, mode="in_person")
    appointment_check_in(appointment=child, by=UserFactory())
    appointment_check_in(appointment=seen, by=UserFactory())
    Appointment.objects.filter(pk=seen.pk).update(status="completed")
    _booked(doctor, hour=11, mode="online")
    client.force_login(doctor.user)

    html = client.get("/doctor/").content.decode()

    assert "发热两天" in html and "7 years" in html
    counts = re.findall(r"<strong>(\d+)</strong> ([a-z -]+)</li>", html)
    assert counts == [("3", "booked"), ("1", "checked in"), ("1", "seen"), ("0", "no-show")]


def test_a_slot_without_bookings_says_so(client, doctor):
    SlotFactory(doctor=doctor, start=MORNING.replace(hour=11))
    client.force_login(doctor.user)
    assert "No booking" in client.get("/doctor/").content.decode()


def test_accounts_that_are_not_doctors_get_a_404(client, morning):
    client.force_login(UserFactory())
    assert client.get("/doctor/").status_code == 404


@pytest.mark.parametrize("rows", [1, 4])
def test_the_day_runs_a_fixed_number_of_queries(client, doctor, rows, django_assert_num_queries):
    for n in range(rows):
        _booked(doctor, hour=9 + n, mode="online" if n % 2 else "in_person")
    client.force_login(doctor.user)
    client.get("/doctor/")  # warm the session
    with django_assert_num_queries(QUERIES):
        response = client.get("/doctor/")
    assert response.content.decode().count("<tr>") == rows + 1


# session, user with its roles (one read), unread badge, doctor, slots, appointments, and the
# queue of "call next" (the day has an in-person session)
QUERIES = 7
