"""The doctor's visit page, the consult room's record and the editors behind them: the record
beside the work for the encounter's own doctor, a 404 for everyone else, an AuditEvent for
every read, and a fixed number of queries however long the record is."""

from __future__ import annotations

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from records import services as clinical
from records.models import CareRelationship, ClinicalNote, Encounter, Prescription
from tests.conftest import with_totp
from tests.factories import ConsentFactory, DoctorFactory, StaffMembershipFactory, UserFactory
from tests.records.conftest import booked_visit, checked_in_visit, drug, item, live_consult

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clinic_hours")]

HTMX = {"HTTP_HX_REQUEST": "true"}


def _reads(user) -> int:
    return AuditEvent.objects.filter(action="record.read", actor=user).count()


def _visit_url(appointment) -> str:
    return f"/doctor/visit/{appointment.code}/"


def _note_url(encounter) -> str:
    return f"/clinical/encounters/{encounter.public_id}/note/"


def test_the_doctor_sees_the_record_and_the_editors_of_a_checked_in_visit(client):
    appointment, _, doctor = checked_in_visit()
    clinical.allergy_add(
        encounter=appointment.encounter, by=doctor, substance="青霉素", severity="severe"
    )
    client.force_login(doctor)
    response = client.get(_visit_url(appointment))
    assert response.status_code == 200
    html = response.content.decode()
    assert "青霉素" in html and 'name="subjective"' in html and "Complete the visit" in html
    assert appointment.patient.id_number_masked in html
    assert appointment.patient.id_number not in html
    assert _reads(doctor) == 1


def test_before_check_in_the_doctor_reads_the_record_but_has_no_editors(client):
    appointment, _, doctor = booked_visit()
    client.force_login(doctor)
    html = client.get(_visit_url(appointment)).content.decode()
    assert 'name="subjective"' not in html and "Complete the visit" not in html
    assert "The editors open when the patient is checked in" in html


def _written_encounter(patient, doctor=None):
    """An encounter with a signed note, an addendum, a two-drug prescription and a problem."""
    doctor = doctor or DoctorFactory(user=UserFactory())
    encounter = clinical.encounter_open(patient=patient, doctor=doctor, mode="in_person")
    note = clinical.note_save(encounter=encounter, author=doctor.user, subjective="随访")
    clinical.note_sign(note=note, by=doctor.user)
    clinical.note_addendum_add(note=note, author=doctor.user, text="补充")
    clinical.prescription_save(
        encounter=encounter, prescriber=doctor.user, items=[item(drug()), item(drug())]
    )
    clinical.problem_add(encounter=encounter, by=doctor.user, description="高血压")
    return encounter


def test_the_record_panel_reads_in_a_fixed_number_of_queries(client, django_assert_num_queries):
    appointment, _, doctor = checked_in_visit()
    patient = appointment.patient
    ConsentFactory(patient=patient, kind="record_sharing", given_by=appointment.booked_by)
    _written_encounter(patient)
    client.force_login(doctor)
    client.get(_visit_url(appointment))  # warm the session and content types

    with django_assert_num_queries(QUERIES):
        assert client.get(_visit_url(appointment)).status_code == 200

    for _ in range(3):
        _written_encounter(patient)
    with django_assert_num_queries(QUERIES):
        response = client.get(_visit_url(appointment))
    assert response.content.decode().count("随访") == 4


# The visit page: session, user with its roles, appointment, access (link, grant, consent), the
# timeline (encounters, notes, addenda, their authors, prescriptions, items, referrals,
# allergies, problems, attachments), the read's AuditEvent, the editors' drug and hospital
# lists, the inbox badge, the remote consultations asked during the visit (issue 15).
QUERIES = 21


def test_without_the_sharing_consent_the_doctor_sees_only_their_hospitals_rows(client):
    appointment, _, doctor = checked_in_visit()
    elsewhere = DoctorFactory(user=UserFactory())
    encounter = clinical.encounter_open(
        patient=appointment.patient, doctor=elsewhere, mode=Encounter.Mode.ONLINE
    )
    note = clinical.note_save(encounter=encounter, author=elsewhere.user, subjective="别院记录")
    clinical.note_sign(note=note, by=elsewhere.user)
    client.force_login(doctor)
    html = client.get(_visit_url(appointment)).content.decode()
    assert "别院记录" not in html and "only what your own hospital wrote" in html
    ConsentFactory(
        patient=appointment.patient, kind="record_sharing", given_by=appointment.booked_by
    )
    assert "别院记录" in client.get(_visit_url(appointment)).content.decode()


@pytest.mark.parametrize("role", ["front_desk", "hospital_admin"])
def test_front_desk_and_hospital_admins_get_a_404_everywhere(client, role):
    appointment, _, _ = checked_in_visit()
    staff = with_totp(UserFactory())
    StaffMembershipFactory(user=staff, hospital=appointment.slot.site, role=role)
    client.force_login(staff)
    encounter = appointment.encounter
    assert client.get(_visit_url(appointment)).status_code == 404
    assert client.get(f"{_visit_url(appointment)}workspace/").status_code == 404
    assert client.post(f"{_visit_url(appointment)}complete/").status_code == 404
    assert client.post(_note_url(encounter), {"subjective": "x"}).status_code == 404
    assert not ClinicalNote.objects.exists()
    assert _reads(staff) == 0


def test_a_doctor_without_a_live_care_relationship_gets_a_404(client):
    appointment, _, doctor = checked_in_visit()
    CareRelationship.objects.filter(user=doctor).update(revoked_at=timezone.now())
    client.force_login(doctor)
    assert client.get(_visit_url(appointment)).status_code == 404
    assert client.post(_note_url(appointment.encounter), {"subjective": "x"}).status_code == 404
    assert not ClinicalNote.objects.exists()


def test_another_doctor_cannot_post_into_the_encounter(client):
    appointment, _, _ = checked_in_visit()
    other = DoctorFactory(user=UserFactory()).user
    # Even with a reason to read the record, the encounter is not theirs.
    clinical.encounter_open(
        patient=appointment.patient,
        doctor=other.doctor,
        mode=Encounter.Mode.IN_PERSON,
    )
    client.force_login(other)
    response = client.post(_note_url(appointment.encounter), {"subjective": "不是我的"}, **HTMX)
    assert response.status_code == 404
    assert client.get(_visit_url(appointment)).status_code == 404
    assert not ClinicalNote.objects.exists()


def test_saving_and_signing_a_note_through_htmx_answers_with_the_workspace(client):
    appointment, _, doctor = checked_in_visit()
    client.force_login(doctor)
    encounter = appointment.encounter
    response = client.post(
        _note_url(encounter),
        {"subjective": "皮疹两周", "diagnosis": "湿疹", "icd10_code": "L20.9", "action": "save"},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="clinical-workspace"')
    assert "皮疹两周" in html and "<html" not in html
    note = ClinicalNote.objects.get()
    response = client.post(
        _note_url(encounter),
        {
            "note": note.public_id,
            "subjective": "皮疹两周",
            "diagnosis": "湿疹",
            "icd10_code": "L20.9",
            "action": "sign",
        },
    )
    assert response.status_code == 302  # without htmx: back to the page
    note.refresh_from_db()
    assert note.is_signed
    assert _reads(doctor) == 1  # the htmx answer showed the record
    response = client.post(
        f"/clinical/encounters/{encounter.public_id}/notes/{note.public_id}/addendum/",
        {"text": "更正：两周半"},
        **HTMX,
    )
    assert "更正：两周半" in response.content.decode()


def test_a_controlled_drug_in_an_online_consult_is_refused_on_the_page(client):
    appointment, _, doctor = live_consult()
    client.force_login(doctor)
    response = client.post(
        f"/clinical/encounters/{appointment.encounter.public_id}/prescription/",
        {
            "drug": drug(controlled=True).pk,
            "dose": "1 片",
            "frequency": "每晚一次",
            "days": 3,
            "quantity": 3,
        },
        **HTMX,
    )
    assert response.status_code == 200
    assert "cannot be prescribed in an online consult" in response.content.decode()
    assert not Prescription.objects.exists()


def test_the_consult_room_shows_the_doctor_the_record_and_the_patient_nothing_of_it(client):
    appointment, account, doctor = live_consult()
    clinical.note_save(encounter=appointment.encounter, author=doctor, subjective="视频问诊记录")
    url = f"/consult/{appointment.consultation.public_id}/"
    client.force_login(doctor)
    html = client.get(url).content.decode()
    assert 'id="clinical-workspace"' in html and "视频问诊记录" in html
    assert _reads(doctor) == 1
    client.force_login(account)
    html = client.get(url).content.decode()
    assert 'id="clinical-workspace"' not in html and "视频问诊记录" not in html


def test_completing_a_visit_from_its_page_closes_the_encounter(client):
    appointment, _, doctor = checked_in_visit()
    client.force_login(doctor)
    response = client.post(f"{_visit_url(appointment)}complete/")
    assert response.status_code == 302 and response["Location"] == "/doctor/"
    appointment.encounter.refresh_from_db()
    assert not appointment.encounter.is_open


def test_referral_targets_list_a_hospitals_departments_and_doctors_for_doctors_only(client):
    _appointment, account, doctor = checked_in_visit()
    target = DoctorFactory()
    client.force_login(doctor)
    response = client.get(f"/clinical/referral-targets/?to_hospital={target.hospital_id}")
    assert target.display_name in response.content.decode()
    client.force_login(account)
    assert client.get("/clinical/referral-targets/").status_code == 404


def test_unsaved_note_text_survives_adding_an_allergy_and_a_signed_note_starts_afresh(client):
    appointment, _, doctor = checked_in_visit()
    encounter = appointment.encounter
    client.force_login(doctor)
    # htmx sends the note's fields along with every other editor's post.
    response = client.post(
        f"/clinical/encounters/{encounter.public_id}/allergies/",
        {"substance": "花生", "severity": "moderate", "subjective": "尚未保存的主诉"},
        **HTMX,
    )
    html = response.content.decode()
    assert "花生" in html and "尚未保存的主诉" in html
    response = client.post(
        _note_url(encounter), {"subjective": "尚未保存的主诉", "action": "sign"}, **HTMX
    )
    html = response.content.decode()
    assert ClinicalNote.objects.get().is_signed
    assert '<textarea id="note-s" name="subjective" rows="3" maxlength="8000"></textarea>' in html


@pytest.mark.parametrize(
    "after", ["18", "²", "doctor_day", "x" * 10_240, "//evil.example/", "https://evil.example/"]
)
def test_an_editor_returns_to_the_doctors_day_when_next_is_not_a_path_here(client, after):
    appointment, _, doctor = checked_in_visit()
    client.force_login(doctor)

    response = client.post(
        f"/clinical/encounters/{appointment.encounter.public_id}/allergies/",
        {"substance": "青霉素", "severity": "severe", "next": after},
    )

    assert response.status_code == 302
    assert response["Location"] == "/doctor/"
    assert appointment.patient.allergies.filter(substance="青霉素").exists()


def test_an_editor_returns_to_the_page_it_was_on(client):
    appointment, _, doctor = checked_in_visit()
    client.force_login(doctor)
    page = f"/doctor/visit/{appointment.code}/"

    response = client.post(
        f"/clinical/encounters/{appointment.encounter.public_id}/allergies/",
        {"substance": "青霉素", "severity": "severe", "next": page},
    )

    assert response["Location"] == page


@pytest.mark.parametrize("refresh", ["https://evil.example/x", "//evil.example/x", "²"])
def test_the_workspace_refreshes_only_from_a_path_here(client, refresh):
    appointment, _, doctor = checked_in_visit()
    client.force_login(doctor)

    response = client.post(
        f"/clinical/encounters/{appointment.encounter.public_id}/allergies/",
        {"substance": "青霉素", "severity": "severe", "refresh": refresh, "next": refresh},
        **HTMX,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "evil.example" not in html and "²" not in html
