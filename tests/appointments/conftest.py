"""Builders for the booking and front-desk tests (a released slot, people an account may book
for, a desk clerk, appointments of a fixed morning in Shanghai), the counters' invariant, and two
hospitals with everything for the console tests."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from appointments.models import ACTIVE_STATUSES, Appointment, CalendarToken, Hold, Slot
from appointments.services import calendar_token_issue, closure_create
from tests.conftest import with_totp
from tests.factories import (
    AppointmentFactory,
    ConsentFactory,
    DoctorFactory,
    HospitalFactory,
    PatientFactory,
    PatientLinkFactory,
    ScheduleRuleFactory,
    SlotFactory,
    StaffMembershipFactory,
    UserFactory,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING = dt.datetime(2026, 12, 2, 8, 0, tzinfo=SHANGHAI)


# --- Booking ----------------------------------------------------------------------------------


def person(account=None, *, relationship: str = "self", consent: bool = True, **patient_fields):
    """A person the account may book for, with the ID-and-health-data consent."""
    account = account or UserFactory()
    patient = PatientFactory(**patient_fields)
    PatientLinkFactory(
        patient=patient,
        account=account,
        relationship=relationship,
        is_manager=True,
    )
    if consent:
        ConsentFactory(patient=patient, given_by=account, on_behalf="self")
    return patient, account


def open_slot(**fields) -> Slot:
    """A slot three days ahead, released a week ago, with a doctor who has an account."""
    if "doctor" not in fields:
        fields["doctor"] = DoctorFactory(user=UserFactory())
    if "start" not in fields:
        # 09:00 in Shanghai, so later slots of the day stay on the same local day.
        day = timezone.now().astimezone(SHANGHAI).date() + dt.timedelta(days=3)
        fields["start"] = dt.datetime.combine(day, dt.time(9), tzinfo=SHANGHAI)
        fields.setdefault("end", fields["start"] + dt.timedelta(minutes=30))
    return SlotFactory(**fields)


def later_slot(slot: Slot, *, hours: int = 1, **fields) -> Slot:
    """Another slot of the same doctor, `hours` later the same day."""
    start = slot.start + dt.timedelta(hours=hours)
    return SlotFactory(
        doctor=slot.doctor,
        start=start,
        end=start + (slot.end - slot.start),
        **fields,
    )


def counters_hold(slot: Slot) -> None:
    """DESIGN.md §3: booked == active public appointments + live public holds; the same for
    the referral pool."""
    slot = Slot.objects.get(pk=slot.pk)
    for pool, counter in (("public", slot.booked), ("referral", slot.referral_booked)):
        appointments = Appointment.objects.filter(
            slot=slot, pool=pool, status__in=ACTIVE_STATUSES
        ).count()
        holds = Hold.objects.filter(slot=slot, pool=pool, state="live").count()
        assert counter == appointments + holds, (pool, counter, appointments, holds)


# --- The front desk ---------------------------------------------------------------------------


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


# --- Two hospitals with everything (console isolation) -----------------------------------------


def _hospital_with_everything(label: str):
    hospital = HospitalFactory(slug=f"hospital-{label}")
    doctor = DoctorFactory(department__hospital=hospital)
    admin = with_totp(StaffMembershipFactory(hospital=hospital).user)
    rule = ScheduleRuleFactory(doctor=doctor)
    # Three days ahead at 10:00 in the hospital's zone, so a day view holds the whole session.
    day = timezone.localdate() + dt.timedelta(days=3)
    start = dt.datetime.combine(day, dt.time(10), tzinfo=SHANGHAI)
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
