"""People, a record and helpers for the FHIR API tests.

alice acts for herself and her daughter; bob is a stranger; dr_chen treats the daughter (a
booking gives him a care relationship) at the cloud hospital.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from appointments.services import appointment_book
from records.models import (
    Allergy,
    ClinicalNote,
    Drug,
    Encounter,
    NoteAddendum,
    Prescription,
    PrescriptionItem,
    Problem,
)
from tests.appointments.conftest import open_slot, person
from tests.conftest import with_totp
from tests.factories import DoctorFactory, ReferralFactory, UserFactory

FHIR = "application/fhir+json"


def validate(resource: dict) -> object:
    """Parse with the R4B models (the package's default is R5): any field that is not FHIR,
    a missing required element or a malformed value fails the test."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def body(response) -> dict:
    assert response["Content-Type"].startswith(FHIR), response["Content-Type"]
    return json.loads(response.content)


def outcome(response, status: int) -> dict:
    """The OperationOutcome of a refusal: the status, a valid resource, its first issue."""
    assert response.status_code == status, (response.status_code, response.content)
    resource = body(response)
    assert resource["resourceType"] == "OperationOutcome"
    validate(resource)
    return resource["issue"][0]


def entries(bundle: dict, resource_type: str | None = None) -> list[dict]:
    return [
        entry["resource"]
        for entry in bundle.get("entry", [])
        if resource_type is None or entry["resource"]["resourceType"] == resource_type
    ]


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@example.com", name="Alice")


@pytest.fixture
def bob(db):
    return UserFactory(email="bob@example.com", name="Bob")


@pytest.fixture
def daughter(alice):
    child, _account = person(
        alice,
        relationship="child",
        name="王小雨",
        sex="female",
        birth_date=dt.date(2019, 3, 1),
    )
    return child


@pytest.fixture
def dr_chen(db):
    doctor = DoctorFactory(user=with_totp(UserFactory(name="陈医生")), name="陈静怡")
    return doctor


@pytest.fixture
def record(alice, daughter, dr_chen):
    """The daughter's record: a closed encounter with a signed note (and an addendum) and a
    draft, a signed prescription of two drugs and an unsigned one, an allergy, a problem, a
    referral from the encounter and one issued elsewhere, and an appointment."""
    now = timezone.now()
    doctor_user = dr_chen.user
    slot = open_slot(doctor=dr_chen)
    appointment = appointment_book(patient=daughter, slot=slot, booked_by=alice)
    encounter = Encounter.objects.create(
        patient=daughter,
        doctor=dr_chen,
        hospital=dr_chen.hospital,
        department=dr_chen.department,
        mode=Encounter.Mode.ONLINE,
        status=Encounter.Status.CLOSED,
        started_at=now - dt.timedelta(days=2, minutes=30),
        ended_at=now - dt.timedelta(days=2),
    )
    note = ClinicalNote.objects.create(
        encounter=encounter,
        author=doctor_user,
        subjective="手背瘙痒两周",
        objective="双手背红斑、丘疹",
        assessment="湿疹",
        plan="外用药，两周复诊",
        diagnosis="湿疹",
        icd10_code="L30.9",
        signed_at=now - dt.timedelta(days=2),
    )
    NoteAddendum.objects.create(note=note, author=doctor_user, text="补充：避免接触洗涤剂。")
    ClinicalNote.objects.create(
        encounter=encounter, author=doctor_user, subjective="DRAFT-ONLY-TEXT"
    )
    cream = Drug.objects.create(
        name="丁酸氢化可的松乳膏", name_en="Hydrocortisone butyrate", strength="0.1% 10g"
    )
    pill = Drug.objects.create(name="氯雷他定片", strength="10mg")
    prescription = Prescription.objects.create(
        encounter=encounter, prescriber=doctor_user, signed_at=now - dt.timedelta(days=2)
    )
    PrescriptionItem.objects.create(
        prescription=prescription,
        drug=cream,
        dose="薄涂",
        frequency="每日两次",
        days=14,
        quantity=1,
    )
    PrescriptionItem.objects.create(
        prescription=prescription, drug=pill, dose="5mg", frequency="每日一次", days=7, quantity=7
    )
    unsigned = Prescription.objects.create(encounter=encounter, prescriber=doctor_user)
    PrescriptionItem.objects.create(
        prescription=unsigned, drug=pill, dose="10mg", frequency="每日一次", days=3, quantity=3
    )
    allergy = Allergy.objects.create(
        patient=daughter,
        substance="青霉素",
        reaction="皮疹",
        severity=Allergy.Severity.SEVERE,
        hospital=dr_chen.hospital,
        recorded_by=doctor_user,
    )
    problem = Problem.objects.create(
        patient=daughter,
        description="特应性皮炎",
        icd10_code="L20.9",
        hospital=dr_chen.hospital,
        recorded_by=doctor_user,
    )
    referral = ReferralFactory(
        patient=daughter, encounter=encounter, issued_by=doctor_user, reason="社区随访"
    )
    elsewhere = ReferralFactory(patient=daughter, reason="")
    return {
        "appointment": appointment,
        "encounter": encounter,
        "note": note,
        "prescription": prescription,
        "allergy": allergy,
        "problem": problem,
        "referral": referral,
        "elsewhere": elsewhere,
        "fee": Decimal("25.00"),
    }
