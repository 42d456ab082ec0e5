"""Queue numbers and "call next": numbers per doctor per site per day, handed out without
duplicates when desks race; the doctor calls the earliest-booked waiting patient, audited."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from appointments.models import Appointment
from appointments.selectors import doctor_queue_today
from appointments.services import appointment_check_in, queue_call_next
from audit.models import AuditEvent
from tests.appointments.conftest import MORNING, appointment_at, clerk_of
from tests.concurrency import race
from tests.factories import DoctorFactory, HospitalFactory, UserFactory


@pytest.fixture
def morning():
    with time_machine.travel(MORNING, tick=False):
        yield


@pytest.fixture
def hospital(db):
    return HospitalFactory()


@pytest.fixture
def doctor(hospital):
    return DoctorFactory(department__hospital=hospital, user=UserFactory())


def _labels(appointments) -> list[str]:
    return [
        Appointment.objects.select_related("queue").get(pk=a.pk).queue_label for a in appointments
    ]


@pytest.mark.django_db
def test_numbers_count_up_per_doctor_and_each_doctor_has_a_letter(hospital, doctor, morning):
    clerk = clerk_of(hospital)
    other = DoctorFactory(department__hospital=hospital)
    mine = [appointment_at(hospital, doctor=doctor, hour=9 + n) for n in range(3)]
    theirs = [appointment_at(hospital, doctor=other, hour=9 + n) for n in range(2)]

    for appointment in [mine[2], theirs[0], mine[0], theirs[1], mine[1]]:
        appointment_check_in(appointment=appointment, by=clerk, at_desk=True)

    # Check-in order, not booked time, gives the numbers; doctors are lettered by id.
    assert _labels(mine) == ["A002", "A003", "A001"]
    assert _labels(theirs) == ["B001", "B002"]
    event = AuditEvent.objects.filter(action="appointment.checked_in").latest("pk")
    assert event.data["queue"] == "A003"


@pytest.mark.django_db
def test_a_new_day_starts_again_at_one(hospital, doctor):
    clerk = clerk_of(hospital)
    today = appointment_at(hospital, doctor=doctor)
    tomorrow = appointment_at(hospital, doctor=doctor, day=MORNING + dt.timedelta(days=1))
    with time_machine.travel(MORNING, tick=False):
        appointment_check_in(appointment=today, by=clerk, at_desk=True)
    with time_machine.travel(MORNING + dt.timedelta(days=1), tick=False):
        appointment_check_in(appointment=tomorrow, by=clerk, at_desk=True)

    assert _labels([today, tomorrow]) == ["A001", "A001"]
    assert {a.queue_id for a in Appointment.objects.all()} != {None}


@pytest.mark.django_db
def test_an_online_appointment_checked_in_by_its_room_takes_no_number(hospital, doctor, morning):
    online = appointment_at(hospital, doctor=doctor, mode="online")

    appointment_check_in(appointment=online, by=online.booked_by)

    online.refresh_from_db()
    assert online.status == "checked_in" and online.queue_id is None


RACERS = 20


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("races")
def test_twenty_desks_checking_in_at_once_hand_out_twenty_distinct_numbers(morning):
    hospital = HospitalFactory()
    doctor = DoctorFactory(department__hospital=hospital)
    clerks = [clerk_of(hospital) for _ in range(4)]
    appointments = [appointment_at(hospital, doctor=doctor, hour=9) for _ in range(RACERS)]

    results = race(
        [
            lambda a=a, n=n: appointment_check_in(appointment=a, by=clerks[n % 4], at_desk=True)
            for n, a in enumerate(appointments)
        ]
    )

    assert all(isinstance(r, Appointment) for r in results), results
    numbers = sorted(Appointment.objects.values_list("queue_number", flat=True))
    assert numbers == list(range(1, RACERS + 1))
    assert Appointment.objects.values("queue_id").distinct().count() == 1


@pytest.mark.django_db
def test_call_next_calls_the_earliest_booked_waiting_patient_then_the_next(
    hospital, doctor, morning
):
    clerk = clerk_of(hospital)
    late = appointment_at(hospital, doctor=doctor, hour=10)
    early = appointment_at(hospital, doctor=doctor, hour=9)
    early_too = appointment_at(hospital, doctor=doctor, hour=9)
    not_here = appointment_at(hospital, doctor=doctor, hour=9)  # booked, never checked in
    for appointment in (late, early_too, early):  # the 10:00 patient came first
        appointment_check_in(appointment=appointment, by=clerk, at_desk=True)

    called = [queue_call_next(doctor=doctor, by=doctor.user) for _ in range(4)]

    assert [a.pk if a else None for a in called] == [early_too.pk, early.pk, late.pk, None]
    not_here.refresh_from_db()
    assert not_here.called_at is None
    events = AuditEvent.objects.filter(action="appointment.called").order_by("pk")
    assert [(e.actor, e.target_id, e.data["queue"]) for e in events] == [
        (doctor.user, str(early_too.pk), "A002"),
        (doctor.user, str(early.pk), "A003"),
        (doctor.user, str(late.pk), "A001"),
    ]


@pytest.mark.django_db
def test_call_next_leaves_other_doctors_patients_alone(hospital, doctor, morning):
    clerk = clerk_of(hospital)
    other = appointment_at(hospital)
    appointment_check_in(appointment=other, by=clerk, at_desk=True)

    assert queue_call_next(doctor=doctor, by=doctor.user) is None
    other.refresh_from_db()
    assert other.called_at is None


@pytest.mark.django_db
def test_the_doctor_calls_next_from_their_day(client, hospital, doctor, morning):
    clerk = clerk_of(hospital)
    appointment = appointment_at(hospital, doctor=doctor)
    appointment_check_in(appointment=appointment, by=clerk, at_desk=True)
    client.force_login(doctor.user)
    client.cookies["django_language"] = "en"

    before = client.get("/doctor/").content.decode()
    after = client.post("/doctor/call-next/", follow=True).content.decode()

    assert "1 checked-in patient waiting" in before and "Call next" in before
    assert ">A001<" in before  # the number beside the patient in the day's list
    assert f"Called A001: {appointment.patient.name}." in after
    assert "0 checked-in patients waiting" in after
    appointment.refresh_from_db()
    assert appointment.called_at == MORNING
    assert client.post("/doctor/call-next/", follow=True).status_code == 200


@pytest.mark.django_db
def test_only_doctors_call_next(client, hospital, morning):
    client.force_login(clerk_of(hospital))

    assert client.post("/doctor/call-next/").status_code == 404


@pytest.mark.django_db
def test_a_double_click_on_call_next_calls_one_patient(client, hospital, doctor, morning):
    clerk = clerk_of(hospital)
    first = appointment_at(hospital, doctor=doctor, hour=9)
    second = appointment_at(hospital, doctor=doctor, hour=10)
    for appointment in (first, second):
        appointment_check_in(appointment=appointment, by=clerk, at_desk=True)
    client.force_login(doctor.user)
    client.cookies["django_language"] = "en"

    client.post("/doctor/call-next/", {"seen_last": ""})
    twice = client.post("/doctor/call-next/", {"seen_last": ""}, follow=True).content.decode()

    assert "A001 was just called" in twice
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.called_at is not None and second.called_at is None
    # The page now shows A001 as called last: its button calls A002.
    client.post("/doctor/call-next/", {"seen_last": str(first.pk)})
    second.refresh_from_db()
    assert second.called_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize("seen_last", ["abc", "-1", "²", "9" * 10_240])
def test_a_malformed_seen_last_calls_nobody_and_says_the_page_was_out_of_date(
    client, hospital, doctor, morning, seen_last
):
    clerk = clerk_of(hospital)
    appointment = appointment_at(hospital, doctor=doctor)
    appointment_check_in(appointment=appointment, by=clerk, at_desk=True)
    client.force_login(doctor.user)
    client.cookies["django_language"] = "en"

    response = client.post("/doctor/call-next/", {"seen_last": seen_last}, follow=True)

    assert response.status_code == 200
    assert "The page was out of date: nobody was called." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.called_at is None


@pytest.mark.django_db
def test_a_finished_visit_still_counts_as_called_last(hospital, doctor, morning):
    clerk = clerk_of(hospital)
    first = appointment_at(hospital, doctor=doctor, hour=9)
    second = appointment_at(hospital, doctor=doctor, hour=10)
    for appointment in (first, second):
        appointment_check_in(appointment=appointment, by=clerk, at_desk=True)
    queue_call_next(doctor=doctor, by=doctor.user, seen_last=None)
    Appointment.objects.filter(pk=first.pk).update(status="completed")

    assert doctor_queue_today(doctor=doctor)["current"].pk == first.pk
    called = queue_call_next(doctor=doctor, by=doctor.user, seen_last=first.pk)
    assert called.pk == second.pk
