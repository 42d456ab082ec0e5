"""What a hospital admin does in the console: departments, doctors and their history."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from audit.services import audit_record
from hospitals.models import Department, Doctor
from tests.conftest import with_totp
from tests.factories import (
    DepartmentFactory,
    DoctorFactory,
    HospitalFactory,
    StaffMembershipFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def hospital():
    return HospitalFactory(slug="yinzhou", name="鄞州人民医院", name_en="Yinzhou Hospital")


@pytest.fixture
def admin(hospital):
    return with_totp(StaffMembershipFactory(hospital=hospital).user)


@pytest.fixture
def console(client, admin):
    client.force_login(admin)
    return client


def test_admin_adds_a_paediatrics_department_with_an_age_limit_and_it_is_audited(
    console, hospital, admin
):
    response = console.post(
        "/manage/yinzhou/departments/add/",
        {"name": "儿科", "name_en": "Paediatrics", "slug": "paediatrics", "max_age_years": "14"},
    )

    assert response.status_code == 302
    department = Department.objects.get(hospital=hospital, slug="paediatrics")
    assert department.max_age_years == 14
    event = AuditEvent.objects.get(action="department.create")
    assert event.actor == admin
    assert event.target == department
    listing = console.get("/manage/yinzhou/departments/").content.decode()
    assert "Paediatrics" in listing
    assert "up to age 14" in listing


def test_a_reversed_age_range_and_a_taken_address_are_refused_with_messages(console, hospital):
    DepartmentFactory(hospital=hospital, slug="ent")

    response = console.post(
        "/manage/yinzhou/departments/add/",
        {"name": "耳鼻喉科", "slug": "ent", "min_age_years": "18", "max_age_years": "6"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Another department of this hospital uses this address." in page
    assert "The maximum age must not be below the minimum." in page
    assert Department.objects.filter(hospital=hospital).count() == 1


def test_editing_a_department_records_what_changed(console, hospital):
    department = DepartmentFactory(hospital=hospital, name="妇科", slug="gyn")

    console.post(
        f"/manage/yinzhou/departments/{department.pk}/edit/",
        {"name": "妇科", "name_en": "Gynaecology", "slug": "gyn", "sex": "female"},
    )

    department.refresh_from_db()
    assert department.sex == "female"
    event = AuditEvent.objects.get(action="department.update")
    assert event.data["changes"]["sex"] == ["", "female"]
    assert event.data["changes"]["name_en"] == ["Dermatology", "Gynaecology"]


def test_a_department_with_active_doctors_cannot_be_deactivated(console, hospital):
    doctor = DoctorFactory(department__hospital=hospital)
    department = doctor.department

    refused = console.post(f"/manage/yinzhou/departments/{department.pk}/deactivate/")

    assert refused.status_code == 400
    assert "1 active doctors still work in this department" in refused.content.decode()
    department.refresh_from_db()
    assert department.is_active

    console.post(f"/manage/yinzhou/doctors/{doctor.pk}/deactivate/")
    console.post(f"/manage/yinzhou/departments/{department.pk}/deactivate/")
    department.refresh_from_db()
    assert not department.is_active


def test_admin_adds_and_edits_a_doctor_and_the_doctors_page_shows_the_history(console, hospital):
    department = DepartmentFactory(hospital=hospital)
    console.post(
        "/manage/yinzhou/doctors/add/",
        {"name": "王磊", "name_en": "Wang Lei", "department": department.pk, "title": "chief"},
    )
    doctor = Doctor.objects.get(name="王磊")
    console.post(
        f"/manage/yinzhou/doctors/{doctor.pk}/edit/",
        {
            "name": "王磊",
            "name_en": "Wang Lei",
            "department": department.pk,
            "title": "associate_chief",
            "offers_online": "on",
        },
    )
    # A rota change of the schedules app names the doctor in its data.
    audit_record(actor=None, action="schedule_rule.create", data={"doctor_id": doctor.pk})
    audit_record(actor=None, action="schedule_rule.create", data={"doctor_id": doctor.pk + 1})

    page = console.get(f"/manage/yinzhou/doctors/{doctor.pk}/").content.decode()

    doctor.refresh_from_db()
    assert doctor.title == Doctor.Title.ASSOCIATE_CHIEF
    assert doctor.offers_online
    assert "Doctor added to the directory" in page
    assert "Doctor&#x27;s details changed" in page
    assert "offers online consults, title" in page
    assert page.count("Rota session added:") == 1 and "schedule_rule.create" not in page
    assert "Invite to an account" in page


def test_deactivated_doctor_leaves_the_public_directory(console, client, hospital):
    doctor = DoctorFactory(department__hospital=hospital)
    assert client.get(f"/doctors/{doctor.pk}/").status_code == 200

    console.post(f"/manage/yinzhou/doctors/{doctor.pk}/deactivate/")

    assert client.get(f"/doctors/{doctor.pk}/").status_code == 404
    assert AuditEvent.objects.filter(action="doctor.deactivate").count() == 1


@pytest.mark.parametrize("rows", [2, 12])
def test_department_list_runs_a_fixed_number_of_queries(
    console, hospital, rows, django_assert_num_queries
):
    for _ in range(rows):
        DoctorFactory(department=DepartmentFactory(hospital=hospital))
    console.get("/manage/yinzhou/departments/")  # warm the session and MFA caches

    # session, user, hospital staff?, MFA?, managed hospital, departments with counts
    with django_assert_num_queries(6):  # + the unread badge
        response = console.get("/manage/yinzhou/departments/")
    assert response.content.decode().count("/edit/") == rows


@pytest.mark.parametrize("rows", [2, 12])
def test_doctor_list_runs_a_fixed_number_of_queries(
    console, hospital, rows, django_assert_num_queries
):
    department = DepartmentFactory(hospital=hospital)
    for n in range(rows):
        DoctorFactory(department=department, user=StaffMembershipFactory().user if n % 2 else None)
    console.get("/manage/yinzhou/doctors/")

    # session, user, hospital staff?, MFA?, managed hospital, doctors with departments and users
    with django_assert_num_queries(6):  # + the unread badge
        response = console.get("/manage/yinzhou/doctors/")
    assert response.content.decode().count("/manage/yinzhou/doctors/") >= rows


def test_the_doctors_page_links_the_weekly_rota_and_its_sessions_feed(console, hospital):
    doctor = DoctorFactory(department__hospital=hospital)

    page = console.get(f"/manage/yinzhou/doctors/{doctor.pk}/").content.decode()

    assert f'href="/manage/yinzhou/doctors/{doctor.pk}/rota/"' in page
    assert "Open the weekly rota" in page
    assert f'href="/manage/yinzhou/doctors/{doctor.pk}/calendar/"' in page
