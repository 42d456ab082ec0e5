"""Fixtures and builders for the records tests.

The clinical builders make an in-person visit checked in at the desk and a live online consult,
both through the real booking and consult services. Use them under the `clinic_hours` fixture:
the clock stands still at 09:55 (Shanghai) on a weekday, so a slot at 10:00 is on the same local
day and its room is open.

The record builders make one person with a record written by two hospitals, and the accounts
around them (who may read what is pinned in tests/security/test_record_matrix.py).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from appointments.models import Appointment
from appointments.services import appointment_book, appointment_check_in
from records import attachments
from records.idnumbers import make_id_number
from records.models import (
    Attachment,
    CareRelationship,
    ClinicalNote,
    Drug,
    Encounter,
    Patient,
)
from records.signals import future_appointments_counted
from telemedicine.services import consultation_admit, consultation_join
from tests.appointments.conftest import open_slot, person
from tests.conftest import with_totp
from tests.factories import (
    ClinicalNoteFactory,
    ConsentFactory,
    DepartmentFactory,
    DoctorFactory,
    EncounterFactory,
    PatientFactory,
    PatientLinkFactory,
    StaffMembershipFactory,
    UserFactory,
)

CHILD_BIRTH = dt.date(2019, 6, 1)
CHILD_ID = make_id_number(birth_date=CHILD_BIRTH, sex="male", sequence=7)


@pytest.fixture
def bob(db):
    """Another verified account: never allowed to see alice's people."""
    return UserFactory(email="bob@example.com", name="Bob")


@pytest.fixture
def child_form() -> dict[str, str]:
    """What a parent types to add their six-year-old son."""
    return {
        "relationship": "child",
        "name": "王小明",
        "id_number": CHILD_ID,
        "sex": "male",
        "birth_date": CHILD_BIRTH.isoformat(),
        "phone": "",
        "consent_id_and_health_data": "on",
        "confirmed": "True",  # the second step: the derived sex and birth date were shown
    }


@pytest.fixture
def future_appointments():
    """Stand in for the booking app's counter: set `counts[patient.pk]` to pretend bookings."""
    counts: dict[int, int] = {}

    def counter(sender, *, patient, **kwargs) -> int:
        return counts.get(patient.pk, 0)

    future_appointments_counted.connect(counter, dispatch_uid="tests.future_appointments")
    yield counts
    future_appointments_counted.disconnect(dispatch_uid="tests.future_appointments")


# --- Clinical visits --------------------------------------------------------------------------


def _soon(**slot_fields) -> dict:
    start = timezone.now() + dt.timedelta(minutes=5)
    slot_fields.setdefault("start", start)
    slot_fields.setdefault("end", slot_fields["start"] + dt.timedelta(minutes=30))
    return slot_fields


def booked_visit(patient=None, account=None, **slot_fields):
    """An in-person appointment in five minutes: (appointment, patient account, doctor)."""
    slot = open_slot(mode="in_person", **_soon(**slot_fields))
    if patient is None:
        patient, account = person()
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    return appointment, account, slot.doctor.user


def checked_in_visit(**slot_fields):
    """Booked and checked in at the desk: the encounter is open."""
    appointment, account, doctor = booked_visit(**slot_fields)
    appointment_check_in(appointment=appointment, by=UserFactory())
    return Appointment.objects.get(pk=appointment.pk), account, doctor


def live_consult(**slot_fields):
    """An online appointment in five minutes whose consult the doctor admitted."""
    slot = open_slot(mode="online", **_soon(**slot_fields))
    patient, account = person()
    ConsentFactory(patient=patient, given_by=account, on_behalf="self", kind="telemedicine")
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    doctor = slot.doctor.user
    consultation_join(consultation=appointment.consultation, account=account)
    consultation_admit(consultation=appointment.consultation, by=doctor)
    return Appointment.objects.get(pk=appointment.pk), account, doctor


def drug(*, controlled: bool = False) -> Drug:
    name, strength, name_en = (
        ("地西泮片", "2.5 mg", "Diazepam tablets")
        if controlled
        else ("氯雷他定片", "10 mg", "Loratadine tablets")
    )
    found, _ = Drug.objects.get_or_create(
        name=name,
        strength=strength,
        defaults={"name_en": name_en, "is_controlled": controlled},
    )
    return found


def item(drug_row: Drug, **fields) -> dict:
    values = {"drug": drug_row, "dose": "1 片", "frequency": "每日一次", "days": 7, "quantity": 7}
    values.update(fields)
    return values


# --- A record written by two hospitals --------------------------------------------------------

# Strings that appear only in one hospital's rows: a page that must not show a row must not
# contain its canary.
CANARY_A = "CANARY-A-湿疹-note"
CANARY_B = "CANARY-B-哮喘-note"
CANARY_DRAFT = "CANARY-DRAFT-unsigned"


def doctor_account(hospital=None, **doctor_fields) -> tuple[Any, Any]:
    """A doctor with an account, a doctor membership and a second factor."""
    user = with_totp(UserFactory())
    fields = dict(doctor_fields)
    if hospital is not None:
        fields["department"] = DepartmentFactory(hospital=hospital)
    doctor = DoctorFactory(user=user, **fields)
    StaffMembershipFactory(user=user, hospital=doctor.hospital, role="doctor")
    return doctor, user


def png_bytes(*, exif: bytes | None = None, size=(8, 8)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    image.save(out, format="PNG", **({"exif": exif} if exif else {}))
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    """A photo carrying EXIF with a camera model and GPS position."""
    image = Image.new("RGB", (16, 12), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0110] = "CANARY-CAMERA-MODEL"  # Model
    exif[0x8825] = {1: "N", 2: (29.0, 52.0, 12.0), 3: "E", 4: (121.0, 33.0, 1.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(name: str, data: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


@dataclass
class Record:
    patient: Patient
    reader: Any  # the account that manages the person and reads the record
    hospital_a: Any
    hospital_b: Any
    doctor_a: Any  # hospitals.Doctor at A
    doctor_a_user: Any
    doctor_b: Any
    doctor_b_user: Any
    encounter_a: Encounter
    encounter_b: Encounter
    note_a: ClinicalNote
    note_b: ClinicalNote
    draft_b: ClinicalNote
    attachment_b: Attachment  # added by doctor B to their encounter
    attachment_own: Attachment  # added by the family


def record_with_two_hospitals(*, sharing: bool = True) -> Record:
    """A child whose record holds an encounter at hospital A and one at hospital B, each with
    a signed note (and B with a draft and a file), plus a file the parent added."""
    reader = UserFactory(name="Parent")
    patient = PatientFactory(name="王小明")
    PatientLinkFactory(patient=patient, account=reader, relationship="child", is_manager=True)
    ConsentFactory(patient=patient, given_by=reader)
    if sharing:
        ConsentFactory(patient=patient, given_by=reader, kind="record_sharing")
    doctor_a, doctor_a_user = doctor_account()
    doctor_b, doctor_b_user = doctor_account()
    start = timezone.now() - dt.timedelta(days=20)
    encounter_a = EncounterFactory(
        patient=patient,
        doctor=doctor_a,
        status="closed",
        started_at=start,
        ended_at=start + dt.timedelta(minutes=20),
    )
    encounter_b = EncounterFactory(
        patient=patient, doctor=doctor_b, started_at=start + dt.timedelta(days=10)
    )
    note_a = ClinicalNoteFactory(encounter=encounter_a, assessment=CANARY_A)
    note_b = ClinicalNoteFactory(encounter=encounter_b, assessment=CANARY_B)
    draft_b = ClinicalNoteFactory(encounter=encounter_b, assessment=CANARY_DRAFT, signed_at=None)
    attachment_b = attachments.attachment_add_to_encounter(
        encounter=encounter_b,
        doctor_account=doctor_b_user,
        upload=upload("x-ray.png", png_bytes(), "image/png"),
        title="CANARY-B-file",
    )
    attachment_own = attachments.attachment_add_by_patient(
        patient=patient,
        account=reader,
        upload=upload("letter.pdf", PDF_BYTES, "application/pdf"),
        title="Letter from the school doctor",
    )
    return Record(
        patient=patient,
        reader=reader,
        hospital_a=doctor_a.hospital,
        hospital_b=doctor_b.hospital,
        doctor_a=doctor_a,
        doctor_a_user=doctor_a_user,
        doctor_b=doctor_b,
        doctor_b_user=doctor_b_user,
        encounter_a=encounter_a,
        encounter_b=encounter_b,
        note_a=note_a,
        note_b=note_b,
        draft_b=draft_b,
        attachment_b=attachment_b,
        attachment_own=attachment_own,
    )


def grant(user, patient, *, reason: str = "booking", days: int = 7) -> CareRelationship:
    now = timezone.now()
    return CareRelationship.objects.create(
        patient=patient,
        user=user,
        reason=reason,
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=days),
    )


def expired_grant(user, patient) -> CareRelationship:
    now = timezone.now()
    return CareRelationship.objects.create(
        patient=patient,
        user=user,
        reason="booking",
        starts_at=now - dt.timedelta(days=20),
        ends_at=now - dt.timedelta(days=1),
    )
