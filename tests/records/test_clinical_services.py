"""records.clinical: encounters follow the visit and the consult; notes are signed once and
corrected by addenda; controlled drugs stay out of online consults; referrals are issued,
expired and completed; only the encounter's own doctor writes, and only while it is open."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import Appointment
from appointments.services import appointment_book, appointment_cancel, appointment_check_in
from audit.models import AuditEvent
from records import services as clinical
from records.access import record_access
from records.errors import ClinicalRefused
from records.models import (
    Allergy,
    CareRelationship,
    ClinicalNote,
    Encounter,
    NoteAddendum,
    Prescription,
    Problem,
    Referral,
)
from records.tasks import expire_referrals as expire_referrals_task
from telemedicine.services import (
    consultation_end,
    consultation_join,
    expire_unfinished,
    visit_complete,
)
from tests.appointments.conftest import open_slot, person
from tests.factories import (
    ConsentFactory,
    DepartmentFactory,
    DoctorFactory,
    HospitalFactory,
    UserFactory,
)
from tests.records.conftest import (
    booked_visit,
    checked_in_visit,
    drug,
    item,
    live_consult,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clinic_hours")]


def _encounter_grant(encounter: Encounter) -> CareRelationship:
    return CareRelationship.objects.get(
        patient=encounter.patient,
        user=encounter.doctor.user,
        reason=CareRelationship.Reason.ENCOUNTER,
        source_id=str(encounter.pk),
    )


# --- Encounter lifecycle --------------------------------------------------------------------


def test_check_in_opens_an_in_person_encounter_and_completing_the_visit_closes_it():
    appointment, _, doctor = booked_visit()
    assert appointment.encounter is None
    appointment, _, doctor = checked_in_visit()
    encounter = appointment.encounter
    assert encounter.mode == Encounter.Mode.IN_PERSON and encounter.is_open
    assert encounter.doctor.user == doctor and encounter.patient == appointment.patient
    grant = _encounter_grant(encounter)
    assert grant.is_live() and grant.ends_at > timezone.now() + dt.timedelta(days=7)

    visit_complete(appointment=appointment, by=doctor)

    encounter.refresh_from_db()
    assert encounter.status == Encounter.Status.CLOSED and encounter.ended_at is not None
    assert Appointment.objects.get(pk=appointment.pk).status == "completed"
    grant.refresh_from_db()
    assert grant.ends_at == encounter.ended_at + dt.timedelta(days=7)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"encounter.open", "encounter.close"} <= actions


def test_an_online_encounter_opens_when_the_consult_goes_live_not_when_the_patient_joins():
    slot = open_slot(
        mode="online",
        start=timezone.now() + dt.timedelta(minutes=5),
        end=timezone.now() + dt.timedelta(minutes=35),
    )
    patient, account = person()
    ConsentFactory(patient=patient, given_by=account, on_behalf="self", kind="telemedicine")
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    consultation_join(consultation=appointment.consultation, account=account)
    assert Appointment.objects.get(pk=appointment.pk).encounter is None

    appointment, _, doctor = live_consult()
    encounter = appointment.encounter
    assert encounter.mode == Encounter.Mode.ONLINE and encounter.is_open
    assert _encounter_grant(encounter).is_live()

    consultation_end(consultation=appointment.consultation, by=doctor)
    encounter.refresh_from_db()
    assert not encounter.is_open


def test_a_cancelled_checked_in_visit_closes_its_encounter():
    appointment, _, _ = checked_in_visit()
    appointment_cancel(appointment=appointment, by=None, reason="hospital")
    appointment.encounter.refresh_from_db()
    assert not appointment.encounter.is_open


def test_closing_keeps_access_while_another_encounter_of_the_same_doctor_is_open():
    appointment, _, doctor = checked_in_visit()
    first = appointment.encounter
    second = clinical.encounter_open(
        patient=first.patient, doctor=first.doctor, mode=Encounter.Mode.IN_PERSON
    )
    clinical.encounter_close(encounter=first, by=doctor)
    assert _encounter_grant(first).ends_at == timezone.now() + dt.timedelta(days=7)
    # Each encounter has its own grant: the open one still lets the doctor read.
    assert _encounter_grant(second).ends_at > timezone.now() + dt.timedelta(days=7)
    assert record_access(user=doctor, patient=first.patient).reason == "encounter"
    clinical.encounter_close(encounter=second, by=doctor)
    assert _encounter_grant(second).ends_at == timezone.now() + dt.timedelta(days=7)


# --- Notes ----------------------------------------------------------------------------------


def test_a_signed_note_is_never_changed_by_the_service_or_the_model():
    appointment, _, doctor = checked_in_visit()
    note = clinical.note_save(
        encounter=appointment.encounter,
        author=doctor,
        subjective="皮疹两周",
        diagnosis="湿疹",
        icd10_code="l20.9",
    )
    assert note.icd10_code == "L20.9"
    note = clinical.note_save(
        encounter=appointment.encounter,
        author=doctor,
        note=note,
        subjective="皮疹三周",
        diagnosis="湿疹",
        icd10_code="L20.9",
    )
    clinical.note_sign(note=note, by=doctor)

    with pytest.raises(ClinicalRefused) as refused:
        clinical.note_save(
            encounter=appointment.encounter, author=doctor, note=note, subjective="改了"
        )
    assert refused.value.code == "signed"
    stored = ClinicalNote.objects.get(pk=note.pk)
    stored.subjective = "改了"
    with pytest.raises(ValueError):
        stored.save()
    assert ClinicalNote.objects.get(pk=note.pk).subjective == "皮疹三周"


def test_a_bad_icd10_code_is_refused_and_nothing_is_saved():
    appointment, _, doctor = checked_in_visit()
    with pytest.raises(ClinicalRefused):
        clinical.note_save(
            encounter=appointment.encounter, author=doctor, diagnosis="湿疹", icd10_code="ECZEMA"
        )
    assert not ClinicalNote.objects.exists()


def test_the_author_adds_addenda_to_a_signed_note_even_after_the_encounter_closed():
    appointment, _, doctor = checked_in_visit()
    note = clinical.note_save(encounter=appointment.encounter, author=doctor, subjective="咳嗽")
    with pytest.raises(ClinicalRefused) as refused:
        clinical.note_addendum_add(note=note, author=doctor, text="补充")
    assert refused.value.code == "draft"
    visit_complete(appointment=appointment, by=doctor)

    clinical.note_sign(note=note, by=doctor)  # the author may sign after close
    addendum = clinical.note_addendum_add(note=note, author=doctor, text="更正：咳嗽三天")
    assert list(note.addenda.all()) == [addendum]
    with pytest.raises(ClinicalRefused) as refused:
        clinical.note_addendum_add(note=note, author=UserFactory(), text="别人的补充")
    assert refused.value.code == "not_author"
    addendum.text = "changed"
    with pytest.raises(ValueError):
        addendum.save()
    assert NoteAddendum.objects.get().text == "更正：咳嗽三天"
    assert AuditEvent.objects.filter(action="note.addendum").count() == 1


def test_nothing_new_is_written_into_a_closed_encounter():
    appointment, _, doctor = checked_in_visit()
    visit_complete(appointment=appointment, by=doctor)
    with pytest.raises(ClinicalRefused) as refused:
        clinical.note_save(encounter=appointment.encounter, author=doctor, subjective="晚了")
    assert refused.value.code == "closed"
    with pytest.raises(ClinicalRefused):
        clinical.allergy_add(
            encounter=appointment.encounter, by=doctor, substance="青霉素", severity="severe"
        )
    assert not ClinicalNote.objects.exists() and not Allergy.objects.exists()


# --- Another doctor -------------------------------------------------------------------------


def test_another_doctor_cannot_write_into_the_encounter():
    appointment, _, _ = checked_in_visit()
    other = DoctorFactory(user=UserFactory()).user
    encounter = appointment.encounter
    attempts = [
        lambda: clinical.note_save(encounter=encounter, author=other, subjective="x"),
        lambda: clinical.allergy_add(
            encounter=encounter, by=other, substance="青霉素", severity="mild"
        ),
        lambda: clinical.problem_add(encounter=encounter, by=other, description="高血压"),
        lambda: clinical.prescription_save(
            encounter=encounter, prescriber=other, items=[item(drug())]
        ),
        lambda: clinical.referral_issue(
            encounter=encounter, by=other, to_hospital=HospitalFactory(), reason="复查"
        ),
    ]
    for attempt in attempts:
        with pytest.raises(ClinicalRefused) as refused:
            attempt()
        assert refused.value.code == "not_yours"
    assert not ClinicalNote.objects.exists() and not Prescription.objects.exists()
    assert not Referral.objects.exists() and not Problem.objects.exists()


# --- Allergies and problems -----------------------------------------------------------------


def test_treating_doctors_add_and_remove_allergies_and_problems():
    appointment, _, doctor = checked_in_visit()
    encounter = appointment.encounter
    allergy = clinical.allergy_add(
        encounter=encounter, by=doctor, substance="青霉素", reaction="皮疹", severity="severe"
    )
    problem = clinical.problem_add(
        encounter=encounter, by=doctor, description="高血压", icd10_code="i10"
    )
    assert problem.icd10_code == "I10" and allergy.hospital == encounter.hospital
    clinical.allergy_remove(allergy=allergy, encounter=encounter, by=doctor)
    clinical.problem_resolve(problem=problem, encounter=encounter, by=doctor)
    allergy.refresh_from_db()
    problem.refresh_from_db()
    assert allergy.removed_at is not None and allergy.removed_by == doctor
    assert problem.resolved_at is not None
    with pytest.raises(ClinicalRefused):
        clinical.allergy_add(encounter=encounter, by=doctor, substance="花粉", severity="deadly")
    actions = list(
        AuditEvent.objects.filter(action__startswith=("allergy")).values_list("action", flat=True)
    )
    assert sorted(actions) == ["allergy.add", "allergy.remove"]


# --- Prescriptions --------------------------------------------------------------------------


def test_a_controlled_drug_is_refused_in_an_online_consult_and_nothing_is_saved():
    appointment, _, doctor = live_consult()
    with pytest.raises(ClinicalRefused) as refused:
        clinical.prescription_save(
            encounter=appointment.encounter,
            prescriber=doctor,
            items=[item(drug()), item(drug(controlled=True))],
        )
    assert refused.value.code == "controlled_online"
    assert "地西泮片" in refused.value.messages[0]
    assert not Prescription.objects.exists()


def test_a_controlled_drug_may_be_prescribed_in_person_and_signed_once():
    appointment, _, doctor = checked_in_visit()
    prescription = clinical.prescription_save(
        encounter=appointment.encounter,
        prescriber=doctor,
        items=[item(drug(controlled=True), days=3, quantity=3)],
    )
    prescription = clinical.prescription_save(
        encounter=appointment.encounter,
        prescriber=doctor,
        prescription=prescription,
        items=[item(drug(controlled=True), days=3, quantity=3), item(drug())],
    )
    assert prescription.items.count() == 2
    clinical.prescription_sign(prescription=prescription, by=doctor)
    with pytest.raises(ClinicalRefused) as refused:
        clinical.prescription_save(
            encounter=appointment.encounter,
            prescriber=doctor,
            prescription=prescription,
            items=[item(drug())],
        )
    assert refused.value.code == "signed"
    assert Prescription.objects.get().items.count() == 2


def test_prescription_items_are_checked():
    appointment, _, doctor = checked_in_visit()
    bad_items = (
        item(drug(), days=0),
        item(drug(), quantity=0),
        item(drug(), dose=""),
        item(drug(), days="seven"),
        item(drug(), drug="not-a-drug"),
    )
    for bad in bad_items:
        with pytest.raises(ClinicalRefused):
            clinical.prescription_save(
                encounter=appointment.encounter, prescriber=doctor, items=[bad]
            )
    assert not Prescription.objects.exists()


# --- Referrals ------------------------------------------------------------------------------


def _clinic_with_doctors():
    department = DepartmentFactory(name="全科", name_en="General practice")
    named = DoctorFactory(department=department, user=UserFactory())
    colleague = DoctorFactory(department=department, user=UserFactory())
    return department, named, colleague


def test_a_referral_to_a_doctor_lets_that_doctor_read_until_it_runs_out_plus_a_week(settings):
    settings.REFERRAL_VALID_DAYS = 10
    appointment, _, doctor = live_consult()
    department, named, colleague = _clinic_with_doctors()
    referral = clinical.referral_issue(
        encounter=appointment.encounter,
        by=doctor,
        to_hospital=department.hospital,
        to_department=department,
        to_doctor=named,
        reason="需要线下复查",
    )
    assert referral.status == Referral.Status.ISSUED
    assert referral.valid_until == timezone.now() + dt.timedelta(days=10)
    assert referral.encounter == appointment.encounter
    grant = CareRelationship.objects.get(user=named.user, reason="referral")
    assert grant.ends_at == referral.valid_until + dt.timedelta(days=7)
    assert record_access(user=named.user, patient=referral.patient).allowed
    assert not record_access(user=colleague.user, patient=referral.patient).allowed


def test_a_referral_to_a_department_grants_its_doctors_and_to_a_hospital_nobody():
    appointment, _, doctor = live_consult()
    department, named, colleague = _clinic_with_doctors()
    clinical.referral_issue(
        encounter=appointment.encounter,
        by=doctor,
        to_hospital=department.hospital,
        to_department=department,
        reason="复查",
    )
    granted = set(CareRelationship.objects.filter(reason="referral").values_list("user", flat=True))
    assert granted == {named.user_id, colleague.user_id}
    CareRelationship.objects.filter(reason="referral").delete()
    clinical.referral_issue(
        encounter=appointment.encounter, by=doctor, to_hospital=department.hospital, reason="复查"
    )
    assert not CareRelationship.objects.filter(reason="referral").exists()


def test_a_referral_must_name_a_department_and_doctor_of_the_hospital():
    appointment, _, doctor = live_consult()
    department, named, _ = _clinic_with_doctors()
    elsewhere = HospitalFactory()
    for kwargs in (
        {"to_hospital": elsewhere, "to_department": department},
        {"to_hospital": elsewhere, "to_doctor": named},
        {"to_hospital": department.hospital, "reason": ""},
    ):
        kwargs.setdefault("reason", "复查")
        with pytest.raises(ClinicalRefused):
            clinical.referral_issue(encounter=appointment.encounter, by=doctor, **kwargs)
    assert not Referral.objects.exists()


def test_expiring_referrals_twice_gives_the_same_result(clinic_hours):
    appointment, _, doctor = live_consult()
    department, _named, _ = _clinic_with_doctors()
    referral = clinical.referral_issue(
        encounter=appointment.encounter, by=doctor, to_hospital=department.hospital, reason="复查"
    )
    booked = clinical.referral_issue(
        encounter=appointment.encounter, by=doctor, to_hospital=department.hospital, reason="复查"
    )
    Referral.objects.filter(pk=booked.pk).update(status=Referral.Status.BOOKED)
    assert clinical.expire_referrals() == 0
    clinic_hours.shift(dt.timedelta(days=31))
    assert expire_referrals_task() == 1
    assert expire_referrals_task() == 0
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.EXPIRED
    assert Referral.objects.get(pk=booked.pk).status == Referral.Status.BOOKED
    assert AuditEvent.objects.filter(action="referral.expire").count() == 1


def test_completing_the_appointment_booked_on_a_referral_completes_the_referral():
    appointment, _, cloud_doctor = live_consult()
    slot = open_slot(
        mode="in_person",
        start=timezone.now() + dt.timedelta(minutes=10),
        end=timezone.now() + dt.timedelta(minutes=40),
        referral_capacity=2,
    )
    referral = clinical.referral_issue(
        encounter=appointment.encounter,
        by=cloud_doctor,
        to_hospital=slot.site,
        to_doctor=slot.doctor,
        reason="复查",
    )
    consultation_end(consultation=appointment.consultation, by=cloud_doctor)
    account = appointment.booked_by
    clinic_appointment = appointment_book(
        patient=appointment.patient, slot=slot, booked_by=account, referral=referral
    )
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.BOOKED
    appointment_check_in(appointment=clinic_appointment, by=UserFactory())
    visit_complete(appointment=clinic_appointment, by=slot.doctor.user)
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.COMPLETED
    assert AuditEvent.objects.filter(action="referral.complete").count() == 1


def test_a_consult_nobody_ended_closes_its_encounter_when_the_room_expires(clinic_hours):
    appointment, _, _ = live_consult()
    clinic_hours.shift(dt.timedelta(hours=2))
    assert expire_unfinished() == 1
    appointment.encounter.refresh_from_db()
    assert not appointment.encounter.is_open
    assert Appointment.objects.get(pk=appointment.pk).status == "completed"
