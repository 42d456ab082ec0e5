"""/me/record/: the family reads every hospital's signed notes, prescriptions, allergies,
problems, referrals and files, for each person they may read, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from hospitals.when import format_day
from records.models import Allergy, Drug, Prescription, PrescriptionItem, Problem
from records.services import exam_record, exam_sign
from tests.factories import (
    ClinicalNoteFactory,
    DepartmentFactory,
    DoctorFactory,
    EncounterFactory,
    PatientLinkFactory,
    ReferralFactory,
)
from tests.records.conftest import (
    CANARY_A,
    CANARY_B,
    CANARY_DRAFT,
    record_with_two_hospitals,
)

pytestmark = pytest.mark.django_db


def _fill(record):
    """Allergies, a problem, a signed and a draft prescription, an addendum, referrals, a
    signed lab report with a value and a file."""
    exam = exam_record(
        encounter=record.encounter_b,
        by=record.doctor_b_user,
        kind="lab",
        observations=[{"name": "血红蛋白", "value": "112", "unit": "g/L", "low": "130"}],
    )
    exam.files.add(record.attachment_b)
    exam_sign(exam=exam, by=record.doctor_b_user, findings="", impression="贫血")
    Allergy.objects.create(
        patient=record.patient,
        substance="青霉素",
        reaction="皮疹",
        severity="severe",
        hospital=record.hospital_a,
        recorded_by=record.doctor_a_user,
    )
    Problem.objects.create(
        patient=record.patient,
        description="Asthma since childhood",
        icd10_code="J45.9",
        hospital=record.hospital_b,
        recorded_by=record.doctor_b_user,
    )
    drug = Drug.objects.create(name="布地奈德", strength="0.5mg/2ml")
    signed = Prescription.objects.create(
        encounter=record.encounter_b, prescriber=record.doctor_b_user, signed_at=timezone.now()
    )
    PrescriptionItem.objects.create(
        prescription=signed, drug=drug, dose="1 支", frequency="bid", days=7, quantity=14
    )
    draft = Prescription.objects.create(
        encounter=record.encounter_b, prescriber=record.doctor_b_user
    )
    PrescriptionItem.objects.create(
        prescription=draft,
        drug=Drug.objects.create(name="DRAFT-DRUG", strength="1mg"),
        dose="1",
        frequency="qd",
        days=1,
        quantity=1,
    )
    record.note_a.addenda.create(author=record.doctor_a_user, text="ADDENDUM-correction")
    department = DepartmentFactory(hospital=record.hospital_a, name="儿科", name_en="Paediatrics")
    clinic_doctor = DoctorFactory(department=department, name_en="Dr Clinic")
    usable = ReferralFactory(
        patient=record.patient,
        to_hospital=record.hospital_a,
        to_department=department,
        to_doctor=clinic_doctor,
        encounter=record.encounter_b,
        reason="REFERRAL-follow-up",
    )
    used = ReferralFactory(
        patient=record.patient, to_hospital=record.hospital_b, status="booked", reason="USED-ONE"
    )
    return usable, used


def test_the_family_reads_every_hospitals_signed_record_newest_first(client):
    record = record_with_two_hospitals(sharing=False)  # the family always reads all of it
    usable, used = _fill(record)
    client.force_login(record.reader)

    response = client.get(reverse("record_mine"))

    html = response.content.decode()
    assert response.status_code == 200
    assert CANARY_A in html and CANARY_B in html
    assert html.index(CANARY_B) < html.index(CANARY_A)  # B's encounter is the newer one
    assert "ADDENDUM-correction" in html
    assert "青霉素" in html and "Asthma since childhood" in html
    assert "布地奈德" in html
    # Drafts are never shown to the family.
    assert CANARY_DRAFT not in html and "DRAFT-DRUG" not in html
    # The ID number only ever appears masked.
    assert record.patient.id_number not in html
    assert record.patient.id_number_masked in html
    # Files: the hospital's and the family's own.
    assert "CANARY-B-file" in html and "Letter from the school doctor" in html
    # Referrals, with status and validity; only a usable one offers booking.
    assert "REFERRAL-follow-up" in html and "USED-ONE" in html
    book = reverse("doctor_detail", args=[usable.to_doctor.pk]) + f"?referral={usable.public_id}"
    assert book in html
    assert f"?referral={used.public_id}" not in html
    with translation.override("en"):  # the page's language, from the browser's default
        assert format_day(timezone.localtime(usable.valid_until).date()) in html
    # The whole record can be taken away as a FHIR Bundle (flagship step 6).
    assert reverse("record_export", args=[record.patient.public_id]) in html


def test_an_account_that_may_not_book_sees_referrals_without_a_book_link(client):
    record = record_with_two_hospitals()
    usable, _used = _fill(record)
    link = record.patient.links.get(account=record.reader)
    link.can_book = False
    link.save()
    client.force_login(record.reader)

    html = client.get(reverse("record_mine")).content.decode()

    assert "REFERRAL-follow-up" in html
    assert f"?referral={usable.public_id}" not in html


def test_an_expired_referral_offers_no_booking(client):
    record = record_with_two_hospitals()
    old = ReferralFactory(
        patient=record.patient,
        to_hospital=record.hospital_a,
        issued_at=timezone.now() - dt.timedelta(days=60),
        valid_until=timezone.now() - dt.timedelta(days=1),
    )
    client.force_login(record.reader)
    html = client.get(reverse("record_mine")).content.decode()
    assert f"?referral={old.public_id}" not in html


def test_a_switcher_lists_every_person_the_account_reads_and_opens_each(client):
    record = record_with_two_hospitals()
    own = PatientLinkFactory(
        account=record.reader, relationship="self", is_manager=True, patient__name="李丽"
    )
    unreadable = PatientLinkFactory(
        account=record.reader, can_read_record=False, patient__name="不可读"
    )
    ClinicalNoteFactory(encounter=EncounterFactory(patient=own.patient), assessment="SELF-NOTE")
    client.force_login(record.reader)

    first = client.get(reverse("record_mine")).content.decode()
    assert "SELF-NOTE" in first and CANARY_A not in first  # one's own record comes first
    assert reverse("record_patient", args=[record.patient.public_id]) in first
    assert "不可读" not in first

    child = client.get(reverse("record_patient", args=[record.patient.public_id]))
    assert CANARY_A in child.content.decode() and "SELF-NOTE" not in child.content.decode()
    assert (
        client.get(reverse("record_patient", args=[unreadable.patient.public_id])).status_code
        == 404
    )


def test_an_account_with_nobody_to_read_is_sent_to_add_someone(client):
    account = PatientLinkFactory(can_read_record=False).account
    client.force_login(account)
    response = client.get(reverse("record_mine"))
    assert response.status_code == 200
    assert reverse("patient_list") in response.content.decode()


def _bigger(record, extra: int) -> None:
    for _ in range(extra):
        encounter = EncounterFactory(patient=record.patient, doctor=record.doctor_a)
        note = ClinicalNoteFactory(encounter=encounter)
        note.addenda.create(author=record.doctor_a_user, text="more")
        rx = Prescription.objects.create(
            encounter=encounter, prescriber=record.doctor_a_user, signed_at=timezone.now()
        )
        PrescriptionItem.objects.create(
            prescription=rx,
            drug=Drug.objects.get_or_create(name="x", strength="1")[0],
            dose="1",
            frequency="qd",
            days=1,
            quantity=1,
        )
        ReferralFactory(patient=record.patient, to_hospital=record.hospital_b)


def test_the_record_page_reads_in_a_fixed_number_of_queries(client, django_assert_num_queries):
    record = record_with_two_hospitals()
    _fill(record)  # one of everything, so every prefetch runs
    client.force_login(record.reader)
    url = reverse("record_patient", args=[record.patient.public_id])
    client.get(url)  # warm the content-type cache

    # session, account, staff roles, the account's links, the access check, encounters,
    # notes, addenda, their authors, prescriptions, items, referrals of the encounters,
    # allergies, problems, attachments, the person's referrals, the signed exams, their
    # values and files, the renewal requests (issue 20; test_renewal_pages.py counts a
    # chronic patient's), the unread count.
    with django_assert_num_queries(20):
        small = client.get(url)
    _bigger(record, extra=6)
    with django_assert_num_queries(20):
        big = client.get(url)
    assert small.status_code == big.status_code == 200
    assert big.content.decode().count("more") >= 6


def test_the_staff_record_page_reads_in_a_fixed_number_of_queries(
    client, django_assert_num_queries
):
    record = record_with_two_hospitals()
    _fill(record)
    from tests.records.conftest import grant

    grant(record.doctor_a_user, record.patient)
    client.force_login(record.doctor_a_user)
    url = reverse("staff_record", args=[record.patient.public_id])
    client.get(url)

    # session, account, staff roles, MFA, the person, the link check, the care relationship,
    # the sharing consent, the record as for the family (11), the exams with their values and
    # files (3), the audit event, unread count.
    with django_assert_num_queries(23) as small:
        client.get(url)
    _bigger(record, extra=6)
    with django_assert_num_queries(len(small)):
        big = client.get(url)
    assert big.status_code == 200 and big.content.decode().count("more") >= 6


def test_book_with_this_referral_leads_to_a_referral_place_in_two_clicks(client):
    from tests.appointments.conftest import open_slot

    record = record_with_two_hospitals()
    usable, _used = _fill(record)
    slot = open_slot(doctor=usable.to_doctor, capacity=0, referral_capacity=1)
    client.force_login(record.reader)
    record_page = client.get(reverse("record_mine")).content.decode()
    book = reverse("doctor_detail", args=[usable.to_doctor.pk]) + f"?referral={usable.public_id}"
    assert book in record_page

    doctor_page = client.get(book).content.decode()
    confirm = reverse("appointment_confirm", args=[slot.pk]) + f"?referral={usable.public_id}"
    assert confirm in doctor_page
    assert f"?referral={usable.public_id}" in doctor_page.split("hx-get=", 1)[1][:200]

    confirm_page = client.get(confirm).content.decode()
    assert f"Referral place for {record.patient.name}" in confirm_page
    # A made-up parameter is dropped, never echoed into the page.
    junk = client.get(reverse("doctor_detail", args=[usable.to_doctor.pk]) + "?referral=<x>")
    assert "referral=" not in junk.content.decode().split('id="doctor-periods"', 1)[1][:300]
