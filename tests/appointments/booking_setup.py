"""Builders for the booking tests: a released slot and people an account may book for."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from appointments.models import ACTIVE_STATUSES, Appointment, Hold, Slot
from tests.factories import (
    ConsentFactory,
    DoctorFactory,
    PatientFactory,
    PatientLinkFactory,
    SlotFactory,
    UserFactory,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


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


def now() -> dt.datetime:
    return timezone.now()


__all__ = ["counters_hold", "later_slot", "now", "open_slot", "person"]
