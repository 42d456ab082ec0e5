"""Builders for the repeat-prescription tests (issue 20): a grandmother with high blood
pressure, her daughter's account, and a signed 30-day prescription of amlodipine written at
the clinic by Dr Gao."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from records.models import Drug, Encounter, Patient, Prescription, PrescriptionItem, Problem
from tests.conftest import with_totp
from tests.factories import (
    DepartmentFactory,
    DoctorFactory,
    PatientFactory,
    PatientLinkFactory,
    StaffMembershipFactory,
    UserFactory,
)


def chronic_drug(name: str = "氨氯地平片", strength: str = "5 mg", **fields) -> Drug:
    fields.setdefault("name_en", "Amlodipine tablets")
    found, _ = Drug.objects.get_or_create(
        name=name, strength=strength, defaults={"is_chronic_care": True, **fields}
    )
    return found


@dataclass
class Chronic:
    patient: Patient
    account: object  # the daughter's account (manages her mother)
    doctor: object  # the prescribing Doctor
    colleague: object  # another doctor of the same department
    problem: Problem
    prescription: Prescription


def signed_prescription(
    *, patient: Patient, doctor, drugs: list[Drug], days: int = 30, signed_at=None
) -> Prescription:
    signed_at = signed_at or timezone.now()
    encounter = Encounter.objects.create(
        patient=patient,
        doctor=doctor,
        hospital=doctor.hospital,
        department=doctor.department,
        mode="in_person",
        status="closed",
        started_at=signed_at - dt.timedelta(minutes=20),
        ended_at=signed_at,
    )
    prescription = Prescription.objects.create(
        encounter=encounter, prescriber=doctor.user, signed_at=signed_at
    )
    for drug in drugs:
        PrescriptionItem.objects.create(
            prescription=prescription,
            drug=drug,
            dose="1 片",
            frequency="每日一次",
            days=days,
            quantity=days,
        )
    return prescription


def chronic_patient(
    *,
    icd10: str = "I10",
    drugs: list[Drug] | None = None,
    days: int = 30,
    signed_days_ago: int = 31,
) -> Chronic:
    department = DepartmentFactory(name="全科", name_en="General practice")
    doctor = DoctorFactory(department=department, user=with_totp(UserFactory(name="Dr Gao")))
    StaffMembershipFactory(user=doctor.user, hospital=department.hospital, role="doctor")
    colleague = DoctorFactory(department=department, user=with_totp(UserFactory(name="Dr Lin")))
    StaffMembershipFactory(user=colleague.user, hospital=department.hospital, role="doctor")
    patient = PatientFactory(name="赵桂兰", birth_date=dt.date(1956, 11, 23))
    account = UserFactory(name="王芳")
    PatientLinkFactory(patient=patient, account=account, relationship="parent")
    problem = Problem.objects.create(
        patient=patient,
        description="原发性高血压",
        icd10_code=icd10,
        hospital=department.hospital,
        recorded_by=doctor.user,
    )
    prescription = signed_prescription(
        patient=patient,
        doctor=doctor,
        drugs=drugs or [chronic_drug()],
        days=days,
        signed_at=timezone.now() - dt.timedelta(days=signed_days_ago),
    )
    return Chronic(
        patient=patient,
        account=account,
        doctor=doctor,
        colleague=colleague,
        problem=problem,
        prescription=prescription,
    )
