"""The front desk finds an appointment at its own hospital by code; another hospital's code is
"not found", exactly like a code that does not exist. Masked ID only, no clinical content."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from appointments.services import appointment_check_in, queue_call_next
from tests.appointments.conftest import MORNING, appointment_at, clerk_of
from tests.conftest import with_totp
from tests.factories import (
    AppointmentFactory,
    DoctorFactory,
    HospitalFactory,
    PatientLinkFactory,
    StaffMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOT_FOUND = "No appointment with this code at your hospital."


@pytest.fixture
def hospital():
    return HospitalFactory(name_en="First Hospital")


@pytest.fixture
def desk_client(client, hospital):
    clerk = with_totp(StaffMembershipFactory(hospital=hospital, role="front_desk").user)
    client.force_login(clerk)
    client.cookies["django_language"] = "en"
    client.clerk = clerk
    return client


def test_the_desk_finds_an_appointment_at_its_hospital_by_code(desk_client, hospital):
    appointment = AppointmentFactory(
        code="K7M2Q9", slot__doctor__department__hospital=hospital, visit_reason="皮疹三周"
    )

    page = desk_client.get("/desk/", {"code": "k7m2q9"}).content.decode()

    assert "K7M2Q9" in page and appointment.patient.name in page
    assert appointment.patient.id_number_masked in page
    assert appointment.patient.id_number not in page
    assert "皮疹三周" not in page


def test_another_hospitals_code_is_not_found_like_an_unknown_one(desk_client):
    elsewhere = AppointmentFactory(code="ELSE01")

    other = desk_client.get("/desk/", {"code": "ELSE01"}).content.decode()
    unknown = desk_client.get("/desk/", {"code": "NOSUCH"}).content.decode()

    assert NOT_FOUND in other and NOT_FOUND in unknown
    assert elsewhere.patient.name not in other


def test_hospital_admins_and_platform_admins_use_the_desk(client, hospital, platform_admin):
    AppointmentFactory(code="K7M2Q9", slot__doctor__department__hospital=hospital)
    admin = with_totp(StaffMembershipFactory(hospital=hospital, role="hospital_admin").user)
    for user in (admin, platform_admin):
        client.force_login(user)
        assert "K7M2Q9 ·" in client.get("/desk/", {"code": "K7M2Q9"}).content.decode()


def test_patients_and_doctors_have_no_desk(client, alice, hospital):
    doctor = with_totp(StaffMembershipFactory(hospital=hospital, role="doctor").user)
    PatientLinkFactory(account=alice)
    for user in (alice, doctor):
        client.force_login(user)
        assert client.get("/desk/").status_code == 404
    client.logout()
    assert client.get("/desk/").status_code == 302


# --- Check-in by code, scanned code or pasted link (issue 8) ---------------------------------

CHECK_IN_FORM = 'action="/desk/check-in/"'


@pytest.fixture
def morning(request):
    with time_machine.travel(MORNING, tick=False):
        # A sign-in from before the jump would be idle for days by now and signed out
        # (portal/sessions.py): the clerk signs in again at the desk's morning.
        if "desk_client" in request.fixturenames:
            desk = request.getfixturevalue("desk_client")
            desk.force_login(desk.clerk)
        yield


def test_a_scanned_code_checks_in_and_gives_the_first_queue_number(desk_client, hospital, morning):
    appointment = appointment_at(hospital, code="K7M2Q9AB")

    found = desk_client.get("/desk/", {"code": "K7M2Q9AB"}).content.decode()
    assert CHECK_IN_FORM in found
    response = desk_client.post("/desk/check-in/", {"code": "K7M2Q9AB"}, follow=True)

    appointment.refresh_from_db()
    assert appointment.status == "checked_in" and appointment.queue_label == "A001"
    page = response.content.decode()
    assert f"{appointment.patient.name} is checked in: queue number A001." in page
    assert "Already checked in at 08:00, queue number A001." in page
    assert CHECK_IN_FORM not in page


@pytest.mark.parametrize(
    "pasted",
    [
        "https://portal.example.cn/appointments/K7M2Q9AB/",
        "http://127.0.0.1:8000/appointments/k7m2q9ab/?from=mail",
        "  K7M2Q9AB  ",
    ],
)
def test_a_pasted_link_or_padded_code_finds_the_appointment(desk_client, hospital, morning, pasted):
    appointment_at(hospital, code="K7M2Q9AB")

    page = desk_client.get("/desk/", {"code": pasted}).content.decode()

    assert "K7M2Q9AB ·" in page and CHECK_IN_FORM in page


def test_text_that_is_no_code_says_so(desk_client, morning):
    page = desk_client.get("/desk/", {"code": "https://example.cn/something/else/entirely"})

    assert "This is not an appointment code." in page.content.decode()


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"status": "cancelled"}, "This appointment was cancelled: no check-in."),
        ({"status": "no_show"}, "This appointment was missed: no check-in."),
        ({"status": "completed"}, "This visit is over."),
        (
            {"day": MORNING + dt.timedelta(days=1)},
            "This appointment is on Thu 3 Dec: check-in opens on that day.",
        ),
        ({"mode": "online"}, "This is an online consultation"),
    ],
)
def test_the_desk_says_why_an_appointment_cannot_be_checked_in(
    desk_client, hospital, morning, fields, says
):
    appointment = appointment_at(hospital, **fields)

    page = desk_client.get("/desk/", {"code": appointment.code}).content.decode()
    response = desk_client.post("/desk/check-in/", {"code": appointment.code}, follow=True)

    assert says in page
    assert CHECK_IN_FORM not in page
    appointment.refresh_from_db()
    assert appointment.queue_id is None
    assert appointment.status == fields.get("status", "booked")
    assert response.status_code == 200


def test_checking_in_twice_keeps_the_first_number(desk_client, hospital, morning):
    appointment = appointment_at(hospital)
    desk_client.post("/desk/check-in/", {"code": appointment.code})

    again = desk_client.post("/desk/check-in/", {"code": appointment.code}, follow=True)

    appointment.refresh_from_db()
    assert appointment.queue_label == "A001"
    assert "An appointment that is checked in cannot become checked in." in again.content.decode()


def test_another_hospitals_appointment_cannot_be_checked_in(desk_client, morning):
    elsewhere = appointment_at(HospitalFactory())

    response = desk_client.post("/desk/check-in/", {"code": elsewhere.code})

    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.status == "booked"


# --- The day's queue per doctor ---------------------------------------------------------------


def _day_at(hospital, rows: int):
    """`rows` patients for each of two doctors: the first checked in, the second called."""
    clerk = clerk_of(hospital)
    for doctor in DoctorFactory.create_batch(2, department__hospital=hospital, user=None):
        for n in range(rows):
            appointment = appointment_at(hospital, doctor=doctor, hour=9 + n)
            if n < 2:
                appointment_check_in(appointment=appointment, by=clerk, at_desk=True)
        doctor.user = UserFactory()
        doctor.save()
        queue_call_next(doctor=doctor, by=doctor.user)


@pytest.mark.parametrize("rows", [2, 6])
def test_the_days_queue_shows_every_doctor_in_a_fixed_number_of_queries(
    desk_client, hospital, morning, rows, django_assert_num_queries
):
    _day_at(hospital, rows)
    appointment_at(hospital, hour=10, status="cancelled")  # left out
    appointment_at(hospital, hour=10, day=MORNING + dt.timedelta(days=1))  # another day
    desk_client.get("/desk/")  # warm the session

    # session, user with its roles (one read), unread badge, desk hospitals, the queue
    with django_assert_num_queries(6):
        page = desk_client.get("/desk/queue/").content.decode()

    assert page.count("<tr class=") == 2 * rows
    assert page.count("A001") == 1 and page.count("B002") == 1
    assert page.count(">called<") == 2 and page.count(">waiting<") == 2
    assert page.count(">not arrived<") == 2 * (rows - 2)


def test_a_clerk_of_two_hospitals_chooses_whose_queue_and_never_a_third(client, morning):
    first, second, foreign = HospitalFactory(), HospitalFactory(), HospitalFactory()
    clerk = clerk_of(first)
    StaffMembershipFactory(user=clerk, hospital=second, role="front_desk")
    ours = appointment_at(second)
    theirs = appointment_at(foreign)
    client.force_login(clerk)

    chosen = client.get("/desk/", {"hospital": second.slug}).content.decode()
    refused = client.get("/desk/queue/", {"hospital": foreign.slug}).content.decode()

    assert ours.patient.name in chosen and 'name="hospital"' in chosen
    assert theirs.patient.name not in refused
