"""Rooms nobody ended close on their own after the slot, and the no-show rules decide what the
appointment becomes: a patient who never joined is a no-show; a patient whom the doctor never
started is cancelled by the hospital (no penalty, free to rebook); a live consult whose video
never connected and that was not held by chat is marked so, never against the patient."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from appointments.models import Appointment
from appointments.services import appointment_book
from telemedicine.models import Consultation
from telemedicine.services import (
    chat_post,
    consultation_admit,
    consultation_join,
    consultation_video_connected,
)
from telemedicine.tasks import expire_unfinished_consults
from tests.appointments.conftest import later_slot
from tests.telemedicine.conftest import in_room_time, online_booking

pytestmark = pytest.mark.django_db


def after_closing(appointment) -> dt.datetime:
    return appointment.consultation.closes_at + dt.timedelta(minutes=1)


def outcome(appointment) -> tuple[str, str, str]:
    consultation = Consultation.objects.get(appointment=appointment)
    status = Appointment.objects.get(pk=appointment.pk).status
    return consultation.status, consultation.outcome, status


def test_a_room_stays_open_until_its_closing_time():
    appointment, _, _ = online_booking()
    with time_machine.travel(appointment.consultation.closes_at - dt.timedelta(minutes=1)):
        assert expire_unfinished_consults() == 0
    assert outcome(appointment)[0] == "scheduled"


def test_a_patient_who_never_joins_becomes_a_no_show():
    appointment, _, doctor = online_booking()
    with time_machine.travel(in_room_time(appointment), tick=False):
        consultation_join(consultation=appointment.consultation, account=doctor)
    with time_machine.travel(after_closing(appointment), tick=False):
        assert expire_unfinished_consults() == 1
    assert outcome(appointment) == ("ended", "patient_no_show", "no_show")


def test_a_patient_the_doctor_never_started_is_cancelled_by_the_hospital_and_may_rebook():
    appointment, account, _ = online_booking()
    hospital = appointment.slot.site
    hospital.no_show_limit = 1  # a single no-show would block the next booking
    hospital.save(update_fields=["no_show_limit"])
    with time_machine.travel(in_room_time(appointment), tick=False):
        consultation_join(consultation=appointment.consultation, account=account)
    with time_machine.travel(after_closing(appointment), tick=False):
        assert expire_unfinished_consults() == 1
        assert outcome(appointment) == ("ended", "doctor_no_show", "cancelled")
        assert Appointment.objects.get(pk=appointment.pk).cancel_reason == "hospital"
        # No penalty: the same person books the doctor's next online period at once.
        again = appointment_book(
            patient=appointment.patient,
            slot=later_slot(appointment.slot, hours=24, mode="online"),
            booked_by=account,
        )
    assert again.status == "booked"


def test_a_live_consult_whose_video_never_connected_and_no_chat_is_marked_not_connected():
    appointment, account, doctor = online_booking()
    consultation = appointment.consultation
    with time_machine.travel(in_room_time(appointment), tick=False):
        consultation_join(consultation=consultation, account=account)
        consultation_admit(consultation=consultation, by=doctor)
        chat_post(consultation=consultation, sender=doctor, text="Can you hear me?")
    with time_machine.travel(after_closing(appointment), tick=False):
        expire_unfinished_consults()
    assert outcome(appointment) == ("ended", "not_connected", "completed")


def test_a_consult_held_by_chat_when_the_video_failed_closes_as_completed_by_chat():
    appointment, account, doctor = online_booking()
    consultation = appointment.consultation
    with time_machine.travel(in_room_time(appointment), tick=False):
        consultation_join(consultation=consultation, account=account)
        consultation_admit(consultation=consultation, by=doctor)
        chat_post(consultation=consultation, sender=doctor, text="Video failed, let's chat")
        chat_post(consultation=consultation, sender=account, text="OK")
    with time_machine.travel(after_closing(appointment), tick=False):
        expire_unfinished_consults()
    assert outcome(appointment) == ("ended", "completed_by_chat", "completed")


def test_a_connected_consult_nobody_ended_closes_as_completed():
    appointment, account, doctor = online_booking()
    consultation = appointment.consultation
    with time_machine.travel(in_room_time(appointment), tick=False):
        consultation_join(consultation=consultation, account=account)
        consultation_admit(consultation=consultation, by=doctor)
        consultation_video_connected(consultation=consultation, by=account)
    with time_machine.travel(after_closing(appointment), tick=False):
        expire_unfinished_consults()
        assert expire_unfinished_consults() == 0  # once only
    assert outcome(appointment) == ("ended", "completed", "completed")


def test_the_beat_runs_the_expiry_every_few_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["expire-unfinished-consults"]
    assert entry["task"] == "telemedicine.tasks.expire_unfinished_consults"
