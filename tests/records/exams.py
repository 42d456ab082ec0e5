"""A clinic visit, a cloud hospital department with two specialists, and exams on the visit:
the world of the reading-queue tests (issue 15)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from records.models import Encounter, Patient
from records.services import encounter_open
from tests.factories import (
    ConsentFactory,
    DepartmentFactory,
    HospitalFactory,
    PatientFactory,
    PatientLinkFactory,
    UserFactory,
)
from tests.records.conftest import doctor_account

LAB_VALUES = [
    {
        "code": "718-7",
        "name": "血红蛋白",
        "value": "112",
        "unit": "g/L",
        "low": "130",
        "high": "175",
    },
    {
        "code": "6690-2",
        "name": "白细胞",
        "value": "6.5",
        "unit": "10^9/L",
        "low": "3.5",
        "high": "9.5",
    },
    {
        "code": "2345-7",
        "name": "血糖",
        "value": "11.2",
        "unit": "mmol/L",
        "low": "3.9",
        "high": "6.1",
    },
]


@dataclass
class Exams:
    patient: Patient
    family: Any  # the account that manages the person
    clinic: Any
    gp: Any  # the clinic doctor's account
    visit: Encounter
    cloud: Any
    cardiology: Any
    specialist: Any
    colleague: Any  # a second specialist of the same department
    outsider: Any  # a specialist of another cloud department


def exams_world(*, sharing: bool = True) -> Exams:
    family = UserFactory(name="Parent")
    patient = PatientFactory(name="王奶奶")
    PatientLinkFactory(patient=patient, account=family, relationship="parent", is_manager=True)
    ConsentFactory(patient=patient, given_by=family)
    if sharing:
        ConsentFactory(patient=patient, given_by=family, kind="record_sharing")
    clinic = HospitalFactory(kind="clinic", name="月湖社区卫生服务中心", name_en="Yuehu Clinic")
    gp_doctor, gp = doctor_account(hospital=clinic)
    visit = encounter_open(patient=patient, doctor=gp_doctor, mode="in_person", site=clinic)
    cloud = HospitalFactory(kind="cloud", name="云医院", name_en="Cloud Hospital")
    cardiology = DepartmentFactory(hospital=cloud, name="心内科", name_en="Cardiology")
    _d, specialist = doctor_account(department=cardiology)
    _d, colleague = doctor_account(department=cardiology)
    _d, outsider = doctor_account(hospital=cloud)
    return Exams(
        patient=patient,
        family=family,
        clinic=clinic,
        gp=gp,
        visit=visit,
        cloud=cloud,
        cardiology=cardiology,
        specialist=specialist,
        colleague=colleague,
        outsider=outsider,
    )
