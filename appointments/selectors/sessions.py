"""Sessions: a doctor's consecutive slots at one site in one mode, read as one block (the
console's day view and the doctor's calendar feed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q

from appointments.models import Slot
from hospitals.models import Doctor, Hospital


@dataclass
class Session:
    """Consecutive slots of one doctor from one rota line on one day, shown as one block."""

    doctor: Doctor
    site: Hospital
    mode: str
    start: dt.datetime
    end: dt.datetime
    slots: list[Slot] = field(default_factory=list)

    @property
    def booked(self) -> int:
        return sum(slot.booked for slot in self.slots)

    @property
    def capacity(self) -> int:
        return sum(slot.capacity for slot in self.slots)

    @property
    def referral_booked(self) -> int:
        return sum(slot.referral_booked for slot in self.slots)

    @property
    def referral_capacity(self) -> int:
        return sum(slot.referral_capacity for slot in self.slots)

    @property
    def closed(self) -> bool:
        return all(slot.closed_at is not None for slot in self.slots)

    @property
    def closed_slots(self) -> int:
        return sum(1 for slot in self.slots if slot.closed_at is not None)


def sessions_from_slots(slots: Iterable[Slot]) -> list[Session]:
    """Group slots (ordered by doctor then start) into sessions."""
    sessions: list[Session] = []
    for slot in slots:
        last = sessions[-1] if sessions else None
        if (
            last is not None
            and last.doctor.pk == slot.doctor_id
            and last.site.pk == slot.site_id
            and last.mode == slot.mode
            and last.slots[-1].rule_id == slot.rule_id
            and last.end == slot.start
        ):
            last.slots.append(slot)
            last.end = slot.end
            continue
        sessions.append(
            Session(
                doctor=slot.doctor,
                site=slot.site,
                mode=slot.mode,
                start=slot.start,
                end=slot.end,
                slots=[slot],
            )
        )
    return sessions


def day_sessions(*, hospital: Hospital, day: dt.date) -> list[Session]:
    """Every session on a local day of the hospital's doctors, or held at the hospital, in
    order of time (doctors of one time in pinyin order)."""
    begin, finish = hospital.local_day_bounds(day)
    slots = (
        Slot.objects.filter(start__gte=begin, start__lt=finish)
        .filter(Q(doctor__hospital=hospital) | Q(site=hospital))
        .select_related("doctor", "doctor__department", "site")
        .order_by("doctor_id", "start", "mode")
    )
    sessions = sessions_from_slots(slots)
    return sorted(sessions, key=lambda s: (s.start, s.doctor.name_pinyin, s.doctor.pk, s.mode))


def doctor_sessions(*, doctor: Doctor, start: dt.datetime, end: dt.datetime) -> list[Session]:
    slots = (
        Slot.objects.filter(doctor=doctor, start__gte=start, start__lt=end)
        .select_related("doctor", "site")
        .order_by("start", "mode")
    )
    return sessions_from_slots(slots)
