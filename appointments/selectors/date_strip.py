"""A doctor's page as Chinese booking platforms lay it out: a strip of 14 days, each with its
morning, afternoon and evening marked open / full / not yet released (and when it opens), and
the periods of one chosen day below (issue 19, item 1). Built from `doctor_grid`'s one query."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from appointments.selectors.slots import GRID_DAYS, Period, PeriodState, doctor_grid
from hospitals.models import Doctor

MORNING, AFTERNOON, EVENING = "am", "pm", "eve"
PARTS = (MORNING, AFTERNOON, EVENING)


class PartState:
    OPEN = "open"  # 有号: a public place left in at least one period
    OPENS = "opens"  # 未放号: nothing open, something still to be released
    FULL = "full"  # 约满: released and taken (or referral places only)
    STOPPED = "stopped"  # 停诊: every period closed
    NONE = "none"  # no session


def part_of(start: dt.datetime, zone) -> str:
    hour = timezone.localtime(start, zone).hour
    if hour < 12:
        return MORNING
    return AFTERNOON if hour < 18 else EVENING


@dataclass
class DayPart:
    """One of a day's three parts: its periods and how the strip marks it."""

    name: str
    periods: list[Period] = field(default_factory=list)

    @property
    def state(self) -> str:
        states = {period.state for period in self.periods}
        if not states:
            return PartState.NONE
        if PeriodState.OPEN in states:
            return PartState.OPEN
        if PeriodState.NOT_RELEASED in states:
            return PartState.OPENS
        if states == {PeriodState.CLOSED}:
            return PartState.STOPPED
        return PartState.FULL

    @property
    def opens_at(self) -> dt.datetime | None:
        """When the first of its unreleased periods opens (shown for 未放号)."""
        waiting = [p.slot.release_at for p in self.periods if p.state == PeriodState.NOT_RELEASED]
        return min(waiting) if waiting else None

    @property
    def sites(self) -> list:
        """The sites its periods are at, each once (the page names one other than the
        doctor's hospital above the periods, not in each of them)."""
        return list({period.slot.site_id: period.slot.site for period in self.periods}.values())

    @property
    def places_left(self) -> int:
        return sum(p.public_left for p in self.periods if p.state == PeriodState.OPEN)


@dataclass
class StripDay:
    day: dt.date
    parts: list[DayPart]
    chosen: bool = False

    @property
    def has_periods(self) -> bool:
        return any(part.periods for part in self.parts)

    @property
    def has_open(self) -> bool:
        return any(part.state == PartState.OPEN for part in self.parts)


def doctor_date_strip(
    *, doctor: Doctor, chosen: dt.date | None = None, now: dt.datetime | None = None
) -> list[StripDay]:
    """The doctor's next GRID_DAYS local days from today, each split into its three parts, one
    of them `chosen`: the asked day when it is on the strip, else the first day with periods."""
    now = now or timezone.now()
    zone = doctor.hospital.zone
    today = timezone.localtime(now, zone).date()
    strip = [
        StripDay(day=today + dt.timedelta(days=offset), parts=[DayPart(name=p) for p in PARTS])
        for offset in range(GRID_DAYS)
    ]
    by_day = {strip_day.day: strip_day for strip_day in strip}
    for grid_day in doctor_grid(doctor=doctor, now=now):
        strip_day = by_day.get(grid_day.day)
        if strip_day is None:
            continue
        for period in grid_day.periods:
            part = PARTS.index(part_of(period.slot.start, period.slot.site.zone))
            strip_day.parts[part].periods.append(period)
    target = by_day.get(chosen) if chosen else None
    if target is None:
        target = next((d for d in strip if d.has_periods), strip[0])
    target.chosen = True
    return strip
