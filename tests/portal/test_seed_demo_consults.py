"""`seed_demo` lets a newcomer show a consult at once: the cloud doctor consults online every
day, one period's room opens in the first minutes after `make run`, and the demo families
already have past visits in their records. Running it again adds nothing."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from appointments.models import ScheduleRule, Slot
from hospitals.models import Doctor
from records.models import ClinicalNote, Encounter

pytestmark = pytest.mark.django_db

ROOM_OPENS_BEFORE = dt.timedelta(minutes=15)  # settings.CONSULT_OPENS_MINUTES_BEFORE


def seed() -> None:
    call_command("seed_demo", stdout=io.StringIO())


# `make run` at 10:07 on a Wednesday (near midnight there is no "soon": the day is over).
@time_machine.travel(dt.datetime(2026, 12, 2, 10, 7, 30, tzinfo=ZoneInfo("Asia/Shanghai")))
def test_the_cloud_doctor_consults_online_every_day_and_a_room_opens_in_minutes():
    started = timezone.now()
    seed()

    doctor = Doctor.objects.get(user__email="doctor.cloud@demo.test")
    standing = ScheduleRule.objects.filter(doctor=doctor, mode="online", valid_until=None)
    assert set(standing.values_list("weekday", flat=True)) == set(range(7))
    soon = Slot.objects.filter(
        doctor=doctor, mode="online", closed_at=None, start__gt=started, booked=0
    ).order_by("start")[0]
    assert soon.start - ROOM_OPENS_BEFORE <= started + dt.timedelta(minutes=6)
    assert soon.release_at <= timezone.now()


def test_the_demo_families_have_signed_past_visits_and_a_second_run_adds_nothing():
    seed()
    visits = Encounter.objects.filter(patient__links__account__email__endswith="@demo.test")
    assert visits.count() == 4
    assert all(visit.started_at < timezone.now() - dt.timedelta(days=20) for visit in visits)
    assert not ClinicalNote.objects.filter(signed_at=None).exists()
    counts = (Encounter.objects.count(), ScheduleRule.objects.count(), Slot.objects.count())

    seed()

    assert (Encounter.objects.count(), ScheduleRule.objects.count(), Slot.objects.count()) == counts
