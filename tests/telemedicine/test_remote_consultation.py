"""Remote consultation (远程会诊, issue 15): a clinic doctor books a cloud specialist's remote
period for the patient of their visit; the patient's caps count, not the doctor's; the
specialist reads the record from the booking until its reason ends; the room admits the
specialist, the GP and — only when invited — the patient; who took part reaches the record."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from appointments.errors import MonthlyCapAccount, NotOnVisit, RemoteForStaff
from appointments.models import Appointment, Slot
from appointments.policies import check_monthly_caps
from appointments.services import appointment_book, appointment_cancel
from audit.models import AuditEvent
from records.access import record_access
from records.models import EncounterParticipant
from telemedicine.models import Consultation
from telemedicine.selectors import consultation_role
from telemedicine.services import consultation_admit, consultation_join
from telemedicine.services_remote import QuestionNeeded, remote_consultation_book
from tests.appointments.conftest import person
from tests.factories import UserFactory
from tests.records.conftest import checked_in_visit
from tests.telemedicine.remote import clinic_visit, remote_consultation, remote_period

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clinic_hours")]


def test_the_gp_books_for_the_visits_patient_and_the_booking_counts_on_the_patients_caps():
    consultation, visit, family, gp, _specialist = remote_consultation()
    appointment = consultation.appointment
    assert appointment.patient_id == visit.patient_id
    assert appointment.booked_by_id == gp.pk
    assert appointment.cap_account_id == family.pk
    assert consultation.gp_id == gp.pk and consultation.requested_in_id == visit.encounter_id
    assert Slot.objects.get(pk=appointment.slot_id).booked == 1


def test_a_doctor_booking_for_many_patients_is_never_capped_but_the_patient_is():
    gp_doctor = clinic_visit()[0].slot.doctor
    soon = timezone.now() + dt.timedelta(minutes=5)
    visits = [
        checked_in_visit(doctor=gp_doctor, start=soon + dt.timedelta(minutes=40 * n))
        for n in range(1, 3)
    ]
    gp = gp_doctor.user
    first = remote_period()
    for visit, _family, _gp in visits:
        remote_consultation_book(visit=visit, slot=first, by=gp, question="Rash?")
    later = remote_period(minutes=180)
    site = later.site
    # The doctor booked two places this month, none of them counted on their account.
    site.monthly_cap_per_account = 1
    site.save(update_fields=["monthly_cap_per_account"])
    check_monthly_caps(account=gp, slot=later, now=timezone.now())
    # The family has its visit and the remote consultation: at a cap of two, no third.
    site.monthly_cap_per_account = 2
    site.save(update_fields=["monthly_cap_per_account"])
    visit, _family, _gp = visits[0]
    with pytest.raises(MonthlyCapAccount):
        remote_consultation_book(visit=visit, slot=later, by=gp, question="Again?")
    assert Slot.objects.get(pk=later.pk).booked == 0


def test_the_public_cannot_book_a_remote_period():
    patient, account = person()
    slot = remote_period()
    with pytest.raises(RemoteForStaff):
        appointment_book(patient=patient, slot=slot, booked_by=account)
    assert Slot.objects.get(pk=slot.pk).booked == 0


def test_another_doctor_or_another_patient_is_refused_and_nothing_is_written():
    visit, _family, gp = clinic_visit()
    slot = remote_period()
    stranger_doctor = clinic_visit()[2]
    with pytest.raises(NotOnVisit):
        remote_consultation_book(visit=visit, slot=slot, by=stranger_doctor, question="Rash?")
    other_patient, _ = person()
    with pytest.raises(NotOnVisit):
        appointment_book(patient=other_patient, slot=slot, booked_by=gp, on_visit=visit)
    with pytest.raises(QuestionNeeded):
        remote_consultation_book(visit=visit, slot=slot, by=gp, question="   ")
    assert Slot.objects.get(pk=slot.pk).booked == 0
    assert not Appointment.objects.filter(slot=slot).exists()
    assert not Consultation.objects.filter(appointment__slot=slot).exists()


def test_the_specialist_reads_the_record_from_the_booking_until_it_is_cancelled():
    consultation, visit, _family, _gp, specialist = remote_consultation()
    patient = visit.patient
    assert record_access(user=specialist, patient=patient).allowed
    appointment_cancel(appointment=consultation.appointment, by=None, reason="hospital")
    assert not record_access(user=specialist, patient=patient).allowed


def test_the_room_is_for_the_specialist_the_gp_and_the_patient_only_when_invited():
    consultation, _visit, family, gp, specialist = remote_consultation(invite_patient=False)
    assert consultation_role(consultation=consultation, account=specialist) == "specialist"
    assert consultation_role(consultation=consultation, account=gp) == "gp"
    assert consultation_role(consultation=consultation, account=family) is None
    assert consultation_role(consultation=consultation, account=UserFactory()) is None
    consultation.patient_invited = True
    assert consultation_role(consultation=consultation, account=family) == "patient"


def test_every_join_is_audited_and_who_took_part_reaches_the_record():
    consultation, _visit, family, gp, specialist = remote_consultation()
    consultation_join(consultation=consultation, account=gp)
    consultation_join(consultation=consultation, account=family)
    consultation_join(consultation=consultation, account=gp)  # a reload
    consultation_join(consultation=consultation, account=specialist)
    consultation_admit(consultation=consultation, by=specialist)
    joins = AuditEvent.objects.filter(action="consultation.join", target_id=str(consultation.pk))
    assert joins.count() == 4
    appointment = Appointment.objects.get(pk=consultation.appointment_id)
    assert appointment.status == "in_consult" and appointment.encounter.mode == "remote"
    taken_part = EncounterParticipant.objects.filter(encounter=appointment.encounter)
    assert sorted(taken_part.values_list("role", flat=True)) == ["gp", "patient", "specialist"]
