"""The directory's services: one transaction each, every change audited, bad input refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from hospitals import services
from hospitals.models import Department, Doctor
from tests.factories import DepartmentFactory, DoctorFactory, HospitalFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_creating_a_department_with_a_taken_slug_is_refused_and_leaves_no_trace():
    existing = DepartmentFactory(slug="ent")
    admin = UserFactory()

    with pytest.raises(ValidationError):
        services.department_create(hospital=existing.hospital, by=admin, name="耳鼻喉", slug="ent")

    assert Department.objects.count() == 1
    assert not AuditEvent.objects.filter(action="department.create").exists()


def test_the_same_department_slug_is_fine_at_another_hospital():
    DepartmentFactory(slug="ent")

    department = services.department_create(
        hospital=HospitalFactory(), by=UserFactory(), name="耳鼻喉科", slug="ent"
    )

    assert department.pk is not None


def test_a_doctor_cannot_be_moved_to_another_hospitals_department():
    doctor = DoctorFactory()
    foreign = DepartmentFactory()

    with pytest.raises(ValidationError, match="own hospital"):
        services.doctor_update(doctor=doctor, by=UserFactory(), department=foreign)

    doctor.refresh_from_db()
    assert doctor.department_id != foreign.pk


def test_a_doctor_cannot_be_added_to_an_inactive_department():
    department = DepartmentFactory(is_active=False)

    with pytest.raises(ValidationError, match="no longer active"):
        services.doctor_create(
            hospital=department.hospital,
            by=UserFactory(),
            name="新医生",
            department=department,
            title=Doctor.Title.RESIDENT,
        )


def test_an_unknown_title_is_refused():
    department = DepartmentFactory()

    with pytest.raises(ValidationError) as refusal:
        services.doctor_create(
            hospital=department.hospital,
            by=UserFactory(),
            name="新医生",
            department=department,
            title="professor",
        )

    assert "title" in refusal.value.message_dict
    assert not Doctor.objects.exists()


def test_every_doctor_change_is_audited_with_what_changed():
    admin = UserFactory()
    doctor = DoctorFactory(title=Doctor.Title.ATTENDING)

    services.doctor_update(doctor=doctor, by=admin, title=Doctor.Title.ASSOCIATE_CHIEF)
    services.doctor_deactivate(doctor=doctor, by=admin)

    update, deactivate = AuditEvent.objects.order_by("id")
    assert update.action == "doctor.update"
    assert update.data["changes"] == {"title": ["attending", "associate_chief"]}
    assert deactivate.action == "doctor.deactivate"
    assert {update.actor, deactivate.actor} == {admin}


def test_a_deactivated_department_leaves_the_hospital_page(client):
    department = DepartmentFactory(name_en="Ophthalmology")
    services.department_deactivate(department=department, by=UserFactory())

    page = client.get(f"/hospitals/{department.hospital.slug}/").content.decode()

    assert "Ophthalmology" not in page
