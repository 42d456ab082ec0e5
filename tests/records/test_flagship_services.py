"""The flagship story, steps 3–5, through the services (DESIGN.md §1): a cloud consult goes
live; the cloud doctor writes a note and a prescription and refers the child to a community
clinic; the parent books the clinic's referral place; the front desk checks the child in; the
clinic doctor reads the cloud note and adds their own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import Appointment
from appointments.services import appointment_book, appointment_check_in
from records import services as clinical
from records.access import record_access
from records.models import Encounter, Referral
from records.selectors_record import record_timeline
from telemedicine.services import (
    consultation_admit,
    consultation_end,
    consultation_join,
    visit_complete,
)
from tests.appointments.conftest import open_slot, person
from tests.factories import (
    ConsentFactory,
    DepartmentFactory,
    DoctorFactory,
    HospitalFactory,
    StaffMembershipFactory,
    UserFactory,
)
from tests.records.conftest import drug, item

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clinic_hours")]


def test_cloud_consult_note_prescription_and_referral_are_read_at_the_clinic():
    # The city: the cloud hospital's dermatologist and a community clinic's GP.
    cloud = HospitalFactory(name="云医院", name_en="Cloud hospital", kind="cloud")
    dermatology = DepartmentFactory(hospital=cloud, name="皮肤科", name_en="Dermatology")
    cloud_doctor = DoctorFactory(department=dermatology, user=UserFactory(), offers_online=True)
    clinic = HospitalFactory(name="月湖社区卫生服务中心", name_en="Yuehu clinic", kind="clinic")
    general = DepartmentFactory(hospital=clinic, name="全科", name_en="General practice")
    clinic_doctor = DoctorFactory(department=general, user=UserFactory())
    desk = UserFactory()
    StaffMembershipFactory(user=desk, hospital=clinic, role="front_desk")

    # A parent books the child's online consult, with the consents the platform asks for.
    child, parent = person(relationship="child", birth_date=dt.date(2019, 9, 2))
    for kind in ("record_sharing", "telemedicine"):
        ConsentFactory(patient=child, kind=kind, given_by=parent, on_behalf="guardian")
    now = timezone.now()
    consult_slot = open_slot(
        doctor=cloud_doctor,
        mode="online",
        start=now + dt.timedelta(minutes=5),
        end=now + dt.timedelta(minutes=35),
    )
    online = appointment_book(patient=child, slot=consult_slot, booked_by=parent)

    # 3. Both open the room; the doctor admits the child: the consult is live.
    consultation_join(consultation=online.consultation, account=parent)
    consultation_admit(consultation=online.consultation, by=cloud_doctor.user)
    online.refresh_from_db()
    cloud_encounter = online.encounter
    assert cloud_encounter.mode == Encounter.Mode.ONLINE and cloud_encounter.hospital == cloud

    # 4. Note, prescription and referral; then the consult ends.
    note = clinical.note_save(
        encounter=cloud_encounter,
        author=cloud_doctor.user,
        subjective="双颊红斑瘙痒两周",
        assessment="特应性皮炎",
        plan="外用弱效激素，社区复诊",
        diagnosis="特应性皮炎",
        icd10_code="L20.9",
    )
    clinical.note_sign(note=note, by=cloud_doctor.user)
    prescription = clinical.prescription_save(
        encounter=cloud_encounter,
        prescriber=cloud_doctor.user,
        items=[item(drug(), dose="5 mg", frequency="每日一次", days=7, quantity=1)],
    )
    clinical.prescription_sign(prescription=prescription, by=cloud_doctor.user)
    referral = clinical.referral_issue(
        encounter=cloud_encounter,
        by=cloud_doctor.user,
        to_hospital=clinic,
        to_department=general,
        reason="线下查看皮损，随访用药效果",
    )
    # The clinic's GP reads the record from the moment of the referral.
    assert record_access(user=clinic_doctor.user, patient=child).allowed
    consultation_end(consultation=online.consultation, by=cloud_doctor.user)
    cloud_encounter.refresh_from_db()
    assert not cloud_encounter.is_open

    # The parent books the clinic slot from the referral (a referral place).
    clinic_slot = open_slot(
        doctor=clinic_doctor,
        mode="in_person",
        start=now + dt.timedelta(hours=2),
        end=now + dt.timedelta(hours=2, minutes=30),
        capacity=0,
        referral_capacity=2,
    )
    visit = appointment_book(patient=child, slot=clinic_slot, booked_by=parent, referral=referral)
    assert visit.pool == "referral"
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.BOOKED

    # 5. The front desk checks the child in with the code: the clinic encounter opens.
    appointment_check_in(appointment=Appointment.objects.get(code=visit.code), by=desk)
    visit.refresh_from_db()
    clinic_encounter = visit.encounter
    assert clinic_encounter.hospital == clinic and clinic_encounter.is_open

    # The clinic doctor opens the record and sees the cloud note, prescription and referral.
    access = record_access(user=clinic_doctor.user, patient=child)
    timeline = record_timeline(access=access)
    by_id = {encounter.pk: encounter for encounter in timeline.encounters}
    cloud_seen = by_id[cloud_encounter.pk]
    assert [n.diagnosis for n in cloud_seen.notes.all()] == ["特应性皮炎"]
    assert [i.drug.name for p in cloud_seen.prescriptions.all() for i in p.items.all()] == [
        "氯雷他定片"
    ]
    assert [r.to_hospital for r in cloud_seen.referrals.all()] == [clinic]
    # The desk, by role alone, reads nothing.
    assert not record_access(user=desk, patient=child).allowed

    # … and adds their own note, then completes the visit: the referral is done.
    own = clinical.note_save(
        encounter=clinic_encounter,
        author=clinic_doctor.user,
        objective="双颊红斑较前消退",
        assessment="特应性皮炎好转",
        diagnosis="特应性皮炎",
        icd10_code="L20.9",
    )
    clinical.note_sign(note=own, by=clinic_doctor.user)
    # Not the cloud doctor's encounter to write in, nor theirs to correct.
    with pytest.raises(clinical.ClinicalRefused):
        clinical.note_addendum_add(note=note, author=clinic_doctor.user, text="补充")
    visit_complete(appointment=visit, by=clinic_doctor.user)
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.COMPLETED

    # The parent's "My record" holds both encounters with both notes.
    parent_view = record_timeline(access=record_access(user=parent, patient=child))
    notes = {n.assessment for encounter in parent_view.encounters for n in encounter.notes.all()}
    assert notes == {"特应性皮炎", "特应性皮炎好转"}
    assert {e.hospital for e in parent_view.encounters} == {cloud, clinic}
