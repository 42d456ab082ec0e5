"""The front desk finds an appointment at its own hospital by code; another hospital's code is
"not found", exactly like a code that does not exist. Masked ID only, no clinical content."""

from __future__ import annotations

import pytest

from tests.conftest import with_totp
from tests.factories import (
    AppointmentFactory,
    HospitalFactory,
    PatientLinkFactory,
    StaffMembershipFactory,
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
