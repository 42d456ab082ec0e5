"""Builders for the front-desk tests: a fixed morning in Shanghai, a hospital with its desk
clerk, and appointments of that day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from appointments.models import Slot
from tests.conftest import with_totp
from tests.factories import AppointmentFactory, DoctorFactory, SlotFactory, StaffMembershipFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING = dt.datetime(2026, 12, 2, 8, 0, tzinfo=SHANGHAI)


def clerk_of(hospital, role: str = "front_desk"):
    return with_totp(StaffMembershipFactory(hospital=hospital, role=role).user)


def appointment_at(
    hospital=None, *, doctor=None, hour: int = 9, day=MORNING, mode="in_person", **fields
):
    """An appointment in a 30-minute period of `doctor` (a new doctor of `hospital` if none)
    starting at `hour` on `day`'s date (the same period for the same doctor and hour)."""
    if doctor is None:
        doctor = DoctorFactory(department__hospital=hospital)
    start = day.replace(hour=hour)
    slot = Slot.objects.filter(doctor=doctor, mode=mode, start=start).first() or SlotFactory(
        doctor=doctor, mode=mode, start=start, end=start + dt.timedelta(minutes=30), capacity=30
    )
    return AppointmentFactory(slot=slot, **fields)
