from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from appointments.models import CalendarToken
from appointments.services import calendar_token_issue, closure_create
from tests.conftest import with_totp
from tests.factories import (
    DoctorFactory,
    HospitalFactory,
    ScheduleRuleFactory,
    SlotFactory,
    StaffMembershipFactory,
)


def _hospital_with_everything(label: str):
    hospital = HospitalFactory(slug=f"hospital-{label}")
    doctor = DoctorFactory(department__hospital=hospital)
    admin = with_totp(StaffMembershipFactory(hospital=hospital).user)
    rule = ScheduleRuleFactory(doctor=doctor)
    # Three days ahead at 10:00 in the hospital's zone, so a day view holds the whole session.
    day = timezone.localdate() + dt.timedelta(days=3)
    start = dt.datetime.combine(day, dt.time(10), tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    slot = SlotFactory(doctor=doctor, rule=rule, booked=1, start=start)
    closure = closure_create(
        scope="doctor",
        doctor=doctor,
        starts_at=timezone.now() + dt.timedelta(days=30),
        ends_at=timezone.now() + dt.timedelta(days=31),
        reason="Leave",
        by=admin,
    )
    token, secret = calendar_token_issue(
        owner=admin, purpose=CalendarToken.Purpose.DOCTOR_SESSIONS, doctor=doctor, by=admin
    )
    return {
        "hospital": hospital,
        "doctor": doctor,
        "admin": admin,
        "rule": rule,
        "slot": slot,
        "closure": closure,
        "token": token,
        "secret": secret,
    }


@pytest.fixture
def hospital_a(db):
    return _hospital_with_everything("a")


@pytest.fixture
def hospital_b(db):
    return _hospital_with_everything("b")
