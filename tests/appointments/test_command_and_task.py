"""The nightly beat task and the generate_slots command both publish the rota."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command

from appointments.models import Slot
from appointments.tasks import generate_upcoming_slots
from tests.factories import ScheduleRuleFactory

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def sunday_night():
    with time_machine.travel(dt.datetime(2027, 1, 3, 23, 0, tzinfo=SHANGHAI), tick=False):
        yield


def test_generate_slots_creates_the_next_n_days_and_says_how_many(sunday_night):
    ScheduleRuleFactory()  # Mondays
    out = io.StringIO()

    call_command("generate_slots", "--days", "9", stdout=out)

    assert "Created 16 slots" in out.getvalue()
    days = {s.astimezone(SHANGHAI).date() for s in Slot.objects.values_list("start", flat=True)}
    assert days == {dt.date(2027, 1, 4), dt.date(2027, 1, 11)}
    call_command("generate_slots", "--days", "9", stdout=out)
    assert "Created 0 slots" in out.getvalue()


def test_generate_slots_refuses_a_silly_number_of_days():
    with pytest.raises(CommandError):
        call_command("generate_slots", "--days", "0")


def test_the_beat_task_generates_four_weeks_ahead_and_is_scheduled_nightly(sunday_night):
    ScheduleRuleFactory()

    assert generate_upcoming_slots.apply().get() == 32
    assert generate_upcoming_slots.apply().get() == 0
    entry = settings.CELERY_BEAT_SCHEDULE["generate-upcoming-slots"]
    assert entry["task"] == "appointments.tasks.generate_upcoming_slots"
    assert entry["schedule"].hour == {1} and entry["schedule"].minute == {0}
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"
