"""The no-show sweep on the beat: at its boundary, and safe to run again."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from appointments.models import Appointment
from appointments.services import appointment_book
from appointments.services.status import NO_SHOW_GRACE_MINUTES
from appointments.tasks import mark_no_shows
from tests.appointments.conftest import open_slot, person

pytestmark = pytest.mark.django_db


def test_the_no_show_job_takes_effect_at_the_grace_boundary_and_only_once():
    slot = open_slot()
    patient, account = person()
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    boundary = slot.end + dt.timedelta(minutes=NO_SHOW_GRACE_MINUTES)

    with time_machine.travel(boundary - dt.timedelta(seconds=1), tick=False):
        assert mark_no_shows.apply().get() == 0
    with time_machine.travel(boundary, tick=False):
        assert mark_no_shows.apply().get() == 1
        assert mark_no_shows.apply().get() == 0  # run twice: same result

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.NO_SHOW


def test_the_beat_schedules_every_job_of_the_design(settings):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "appointments.tasks.release_expired_holds",
        "appointments.tasks.send_due_reminders",
        "appointments.tasks.mark_no_shows",
        "appointments.tasks.generate_upcoming_slots",
        "notifications.tasks.deliver_outbox",
    } <= scheduled
