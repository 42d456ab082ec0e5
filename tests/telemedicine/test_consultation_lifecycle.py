"""An online booking gets its consult room; joining, admitting and ending move the appointment
along its status machine; a cancelled appointment ends its room; only the people of the
appointment may open it."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import time_machine
from django.http import Http404
from django.utils import timezone

from appointments.models import Appointment
from appointments.services import (
    appointment_book,
    appointment_cancel,
    appointment_complete,
    appointment_start_consult,
)
from audit.models import AuditEvent
from records.models import Encounter, PatientLink
from telemedicine.models import ChatMessage, Consultation
from telemedicine.selectors import chat_history, consultation_for_account_or_404
from telemedicine.services import (
    BadChat,
    ConsultClosed,
    DoctorOnly,
    NotAllowed,
    NotYetOpen,
    chat_post,
    consultation_admit,
    consultation_end,
    consultation_join,
)
from tests.appointments.conftest import SHANGHAI, open_slot, person
from tests.factories import PatientLinkFactory, UserFactory
from tests.telemedicine.conftest import in_room_time, online_booking

pytestmark = pytest.mark.django_db


def test_booking_an_online_slot_opens_a_room_fifteen_minutes_before_it(settings):
    settings.CONSULT_AUTO_CLOSE_MINUTES_AFTER = 30
    appointment, _, _ = online_booking()
    consultation = appointment.consultation
    assert consultation.status == Consultation.Status.SCHEDULED
    assert consultation.opens_at == appointment.slot.start - dt.timedelta(minutes=15)
    assert consultation.closes_at == appointment.slot.end + dt.timedelta(minutes=30)
    assert AuditEvent.objects.filter(action="consultation.create").exists()


def test_an_in_person_booking_has_no_room():
    slot = open_slot(mode="in_person")
    patient, account = person()
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    assert not Consultation.objects.filter(appointment=appointment).exists()


def test_cancelling_the_appointment_ends_its_room():
    appointment, account, _ = online_booking()
    appointment_cancel(appointment=appointment, by=account, reason="patient")
    consultation = Consultation.objects.get(appointment=appointment)
    assert consultation.status == Consultation.Status.ENDED
    assert consultation.outcome == Consultation.Outcome.CANCELLED


def test_only_the_patients_accounts_and_the_doctor_may_open_the_room():
    appointment, account, doctor = online_booking()
    guardian = UserFactory()
    PatientLinkFactory(
        patient=appointment.patient, account=guardian, relationship="guardian", is_manager=False
    )
    public_id = appointment.consultation.public_id
    assert consultation_for_account_or_404(public_id=public_id, account=account)[1] == "patient"
    assert consultation_for_account_or_404(public_id=public_id, account=guardian)[1] == "patient"
    assert consultation_for_account_or_404(public_id=public_id, account=doctor)[1] == "doctor"
    for outsider in (UserFactory(), None):
        with pytest.raises(Http404):
            consultation_for_account_or_404(public_id=public_id, account=outsider)
    with pytest.raises(Http404):
        consultation_for_account_or_404(public_id="not-a-uuid", account=account)


def test_a_revoked_link_no_longer_opens_the_room():
    appointment, account, _ = online_booking()

    PatientLink.objects.filter(account=account).update(revoked_at=timezone.now())
    with pytest.raises(Http404):
        consultation_for_account_or_404(
            public_id=appointment.consultation.public_id, account=account
        )


def test_the_room_is_closed_before_it_opens():
    appointment, account, _ = online_booking()
    with (
        time_machine.travel(in_room_time(appointment, minutes=-16), tick=False),
        pytest.raises(NotYetOpen),
    ):
        consultation_join(consultation=appointment.consultation, account=account)


def test_the_patient_joining_checks_in_then_admit_starts_and_end_completes():
    appointment, account, doctor = online_booking()
    consultation = appointment.consultation
    with time_machine.travel(in_room_time(appointment), tick=False):
        consultation, role = consultation_join(consultation=consultation, account=account)
        assert role == "patient"
        assert consultation.status == Consultation.Status.WAITING
        assert Appointment.objects.get(pk=appointment.pk).status == "checked_in"
        consultation_join(consultation=consultation, account=doctor)
        consultation = consultation_admit(consultation=consultation, by=doctor)
        assert consultation.status == Consultation.Status.LIVE
        assert Appointment.objects.get(pk=appointment.pk).status == "in_consult"
        consultation = consultation_end(consultation=consultation, by=doctor)
    assert consultation.status == Consultation.Status.ENDED
    assert consultation.ended_by == doctor
    assert Appointment.objects.get(pk=appointment.pk).status == "completed"
    with pytest.raises(ConsultClosed):
        consultation_join(consultation=consultation, account=account)


def test_admitting_opens_one_online_encounter_and_ending_closes_it_through_the_appointment():
    appointment, account, doctor = online_booking()
    with time_machine.travel(in_room_time(appointment), tick=False):
        consultation, _role = consultation_join(
            consultation=appointment.consultation, account=account
        )
        consultation = consultation_admit(consultation=consultation, by=doctor)
        consultation = consultation_admit(consultation=consultation, by=doctor)  # live already
        [encounter] = Encounter.objects.filter(patient=appointment.patient)
        assert encounter.mode == Encounter.Mode.ONLINE and encounter.is_open
        assert encounter.doctor == appointment.slot.doctor
        assert Appointment.objects.get(pk=appointment.pk).encounter == encounter
        consultation_end(consultation=consultation, by=doctor)
    encounter.refresh_from_db()
    assert not encounter.is_open
    assert AuditEvent.objects.filter(action="encounter.open").count() == 1
    assert AuditEvent.objects.filter(action="encounter.close").count() == 1

    # The appointment's status machine owns the encounter: an online appointment that goes
    # into its consult and is completed opens and closes one, whoever moves it.
    other, _account, other_doctor = online_booking()
    other = appointment_start_consult(appointment=other, by=other_doctor)
    assert other.encounter.mode == Encounter.Mode.ONLINE and other.encounter.is_open
    other = appointment_complete(appointment=other, by=other_doctor)
    other.encounter.refresh_from_db()
    assert not other.encounter.is_open


def test_a_consult_ended_without_admitting_completes_the_appointment_and_opens_no_encounter():
    appointment, account, doctor = online_booking()
    with time_machine.travel(in_room_time(appointment), tick=False):
        consultation, _role = consultation_join(
            consultation=appointment.consultation, account=account
        )
        consultation_end(consultation=consultation, by=doctor)
    assert Appointment.objects.get(pk=appointment.pk).status == "completed"
    assert not Encounter.objects.filter(patient=appointment.patient).exists()


def test_a_refused_appointment_step_is_logged_and_the_consult_goes_on(caplog):
    # A slot at 00:05 opens its room at 23:50 the day before: checking the appointment in
    # then is refused (not on the slot's day), yet the patient enters the waiting room.
    day = timezone.now().astimezone(SHANGHAI).date() + dt.timedelta(days=3)
    start = dt.datetime.combine(day, dt.time(0, 5), tzinfo=SHANGHAI)
    appointment, account, _doctor = online_booking(
        start=start, end=start + dt.timedelta(minutes=30)
    )

    with (
        caplog.at_level(logging.WARNING, logger="telemedicine.services"),
        time_machine.travel(start - dt.timedelta(minutes=10), tick=False),
    ):
        consultation, role = consultation_join(
            consultation=appointment.consultation, account=account
        )

    assert role == "patient" and consultation.status == Consultation.Status.WAITING
    assert Appointment.objects.get(pk=appointment.pk).status == "booked"
    [record] = [r for r in caplog.records if r.name == "telemedicine.services"]
    assert record.levelno == logging.WARNING
    said = record.getMessage()
    assert str(consultation.public_id) in said and "appointment_check_in" in said
    assert "not_on_the_day" in said and str(appointment.pk) in said


def test_the_patient_may_neither_admit_nor_end():
    appointment, account, _ = online_booking()
    with time_machine.travel(in_room_time(appointment), tick=False):
        with pytest.raises(DoctorOnly):
            consultation_admit(consultation=appointment.consultation, by=account)
        with pytest.raises(DoctorOnly):
            consultation_end(consultation=appointment.consultation, by=account)
        with pytest.raises(NotAllowed):
            consultation_join(consultation=appointment.consultation, account=UserFactory())
    assert Consultation.objects.get(pk=appointment.consultation.pk).status == "scheduled"


def test_chat_is_stored_in_order_and_refuses_empty_or_long_text():
    appointment, account, doctor = online_booking()
    consultation = appointment.consultation
    chat_post(consultation=consultation, sender=account, text="  Hello doctor  ")
    chat_post(consultation=consultation, sender=doctor, text="Hello")
    assert [m.text for m in chat_history(consultation=consultation)] == ["Hello doctor", "Hello"]
    for bad in ("", "   ", "x" * 2001, None, 5):
        with pytest.raises(BadChat):
            chat_post(consultation=consultation, sender=account, text=bad)
    with pytest.raises(NotAllowed):
        chat_post(consultation=consultation, sender=UserFactory(), text="hi")
    assert ChatMessage.objects.count() == 2
