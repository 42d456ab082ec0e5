"""Reads of the rota: what it would generate (the plan the console previews and `slots_generate`
publishes), the slots it no longer produces, and each doctor's weekly sessions."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from appointments.models import ScheduleRule, Slot
from hospitals.models import Doctor, HolidayDate, Hospital

UTC = dt.UTC


@dataclass(frozen=True)
class PlannedSlot:
    doctor_id: int
    site_id: int
    department_id: int
    rule_id: int
    start: dt.datetime
    end: dt.datetime
    mode: str
    capacity: int
    referral_capacity: int
    fee: Decimal
    release_at: dt.datetime
    referral_release_at: dt.datetime
    referral_merge_at: dt.datetime

    @property
    def key(self) -> tuple[int, dt.datetime, str]:
        return (self.doctor_id, self.start, self.mode)


@dataclass
class SlotPlan:
    """What `slots_generate` would do for a date range, computed without writing."""

    to_create: list[PlannedSlot] = field(default_factory=list)
    # Unbooked, open future slots the rota no longer produces (or produces differently).
    to_delete: list[int] = field(default_factory=list)
    # Future slots with bookings the rota no longer produces: kept, reported, offered a Closure.
    to_orphan: list[int] = field(default_factory=list)
    # Orphaned slots the rota produces again.
    to_restore: list[int] = field(default_factory=list)


def local_instant(day: dt.date, wall: dt.time, zone: zoneinfo.ZoneInfo) -> dt.datetime | None:
    """The instant a local wall-clock time on a day names: None when it does not exist (a DST
    gap), its first occurrence when it is ambiguous (a DST overlap, fold=0)."""
    naive = dt.datetime.combine(day, wall)
    aware = naive.replace(tzinfo=zone, fold=0)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        return None
    return aware.astimezone(UTC)


def release_times(
    *, site: Hospital, day: dt.date, start: dt.datetime
) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    """(release_at, referral_release_at, referral_merge_at) of a slot on a local day at a site.

    Public places open `booking_horizon_days` before the slot's local date at the local
    `release_time`; referral places `referral_head_start_days` earlier at the same local time;
    unused referral places join the public pool `referral_merge_hours` before the start."""
    zone = site.zone
    release_day = day - dt.timedelta(days=site.booking_horizon_days)
    referral_day = release_day - dt.timedelta(days=site.referral_head_start_days)
    release_at = dt.datetime.combine(release_day, site.release_time).replace(tzinfo=zone, fold=0)
    referral_at = dt.datetime.combine(referral_day, site.release_time).replace(tzinfo=zone, fold=0)
    merge_at = start - dt.timedelta(hours=site.referral_merge_hours)
    return release_at.astimezone(UTC), referral_at.astimezone(UTC), merge_at


def _days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def rota_weekday(
    *, day: dt.date, calendar_id: int | None, holidays: dict[tuple[int, dt.date], HolidayDate]
) -> int | None:
    """Which weekday's rota runs on a day: None on a public holiday, the named weekday on a
    make-up working day (调休), otherwise the day's own weekday."""
    if calendar_id is not None:
        special = holidays.get((calendar_id, day))
        if special is not None:
            if special.kind == HolidayDate.Kind.HOLIDAY:
                return None
            return special.follows_weekday
    return day.weekday()


def slots_planned(
    *, start: dt.date, end: dt.date, doctors: Iterable[Doctor] | None = None
) -> list[PlannedSlot]:
    """Every slot the rota produces for local dates start..end (inclusive) that has not
    started yet, one per (doctor, start instant)."""
    now = timezone.now()
    rules = ScheduleRule.objects.filter(doctor__is_active=True, valid_from__lte=end).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=start)
    )
    if doctors is not None:
        rules = rules.filter(doctor__in=list(doctors))
    rules = list(rules.select_related("site", "doctor").order_by("doctor_id", "start_time", "id"))
    calendar_ids = {rule.site.holiday_calendar_id for rule in rules} - {None}
    holidays = {
        (h.calendar_id, h.date): h
        for h in HolidayDate.objects.filter(
            calendar_id__in=calendar_ids, date__gte=start, date__lte=end
        )
    }
    zones: dict[int, zoneinfo.ZoneInfo] = {}
    releases: dict[tuple[int, dt.date], tuple[dt.datetime, dt.datetime]] = {}
    planned: list[PlannedSlot] = []
    seen: set[tuple[int, dt.datetime]] = set()
    for rule in rules:
        site = rule.site
        zone = zones.setdefault(site.pk, site.zone)
        starts = rule.slot_starts()
        length = dt.timedelta(minutes=rule.slot_minutes)
        merge = dt.timedelta(hours=site.referral_merge_hours)
        for day in _days(max(start, rule.valid_from), min(end, rule.valid_until or end)):
            weekday = rota_weekday(day=day, calendar_id=site.holiday_calendar_id, holidays=holidays)
            if weekday != rule.weekday:
                continue
            release = releases.get((site.pk, day))
            for wall in starts:
                instant = local_instant(day, wall, zone)
                if instant is None or instant <= now:
                    continue
                if (rule.doctor_id, instant) in seen:
                    continue
                seen.add((rule.doctor_id, instant))
                if release is None:
                    release_at, referral_at, _merge = release_times(
                        site=site, day=day, start=instant
                    )
                    release = releases[(site.pk, day)] = (release_at, referral_at)
                planned.append(
                    PlannedSlot(
                        doctor_id=rule.doctor_id,
                        site_id=site.pk,
                        department_id=rule.doctor.department_id,
                        rule_id=rule.pk,
                        start=instant,
                        end=instant + length,
                        mode=rule.mode,
                        capacity=rule.public_places,
                        referral_capacity=rule.referral_places,
                        fee=rule.fee,
                        release_at=release[0],
                        referral_release_at=release[1],
                        referral_merge_at=instant - merge,
                    )
                )
    return planned


_COMPARED = (
    "site_id",
    "department_id",
    "rule_id",
    "end",
    "capacity",
    "referral_capacity",
    "fee",
    "release_at",
    "referral_release_at",
    "referral_merge_at",
)


def slots_plan(
    *, start: dt.date, end: dt.date, doctors: Iterable[Doctor] | None = None
) -> SlotPlan:
    """Compare what the rota produces for start..end with the slots that exist.

    Only future slots are touched. A closed slot is left alone. An unbooked open slot the rota
    no longer produces, or produces with other places, times or fee, is deleted (and recreated
    when still wanted); nobody holds it, so nobody notices. A slot with bookings is never
    deleted or changed: when the rota no longer produces it, it is reported as orphaned."""
    now = timezone.now()
    doctors = list(doctors) if doctors is not None else None
    planned = slots_planned(start=start, end=end, doctors=doctors)
    wanted = {slot.key: slot for slot in planned}
    existing = Slot.objects.filter(
        start__gte=dt.datetime.combine(start, dt.time.min, UTC) - dt.timedelta(days=1),
        start__lt=dt.datetime.combine(end, dt.time.min, UTC) + dt.timedelta(days=2),
        start__gt=now,
    )
    if doctors is not None:
        existing = existing.filter(doctor__in=doctors)
    plan = SlotPlan()
    kept_starts: set[tuple[int, dt.datetime]] = set()
    zones: dict[str, zoneinfo.ZoneInfo] = {}
    rows = existing.values(
        "id",
        "doctor_id",
        "start",
        "mode",
        "site__timezone",
        "booked",
        "referral_booked",
        "closed_at",
        "orphaned_at",
        *_COMPARED,
    )
    for row in rows:
        zone = zones.setdefault(row["site__timezone"], zoneinfo.ZoneInfo(row["site__timezone"]))
        if not start <= row["start"].astimezone(zone).date() <= end:
            continue
        key = (row["doctor_id"], row["start"], row["mode"])
        want = wanted.get(key)
        taken = row["booked"] + row["referral_booked"]
        if row["closed_at"] is not None:
            wanted.pop(key, None)
            kept_starts.add(key[:2])
            continue
        if want is not None:
            same = all(row[name] == getattr(want, name) for name in _COMPARED)
            if same or taken:
                wanted.pop(key)
                kept_starts.add(key[:2])
                if row["orphaned_at"] is not None:
                    plan.to_restore.append(row["id"])
                continue
            plan.to_delete.append(row["id"])
            continue
        if taken:
            kept_starts.add(key[:2])
            if row["orphaned_at"] is None:
                plan.to_orphan.append(row["id"])
        else:
            plan.to_delete.append(row["id"])
    # A kept slot in another mode already holds that instant: never two slots at one start.
    plan.to_create = [slot for slot in wanted.values() if slot.key[:2] not in kept_starts]
    return plan


def slots_orphaned(
    *, hospital: Hospital | None = None, doctors: Iterable[Doctor] | None = None
) -> QuerySet[Slot]:
    """Future open slots with bookings that the rota no longer produces: the console offers a
    Closure for each."""
    slots = Slot.objects.filter(
        orphaned_at__isnull=False, closed_at__isnull=True, start__gt=timezone.now()
    )
    if hospital is not None:
        slots = slots.filter(Q(doctor__hospital=hospital) | Q(site=hospital))
    if doctors is not None:
        slots = slots.filter(doctor__in=list(doctors))
    return slots.select_related("doctor", "site").order_by("start", "doctor_id")


def rota_by_doctor(*, hospital: Hospital) -> list[tuple[Doctor, list[ScheduleRule]]]:
    """The hospital's active doctors with their rota lines, in two queries."""
    doctors = list(
        Doctor.objects.filter(hospital=hospital, is_active=True)
        .select_related("department")
        .order_by(
            F("department__display_order").asc(nulls_last=True),
            "department__name_pinyin",
            "name_pinyin",
            "id",
        )
    )
    rules: dict[int, list[ScheduleRule]] = defaultdict(list)
    for rule in (
        ScheduleRule.objects.filter(doctor__in=doctors)
        .select_related("site")
        .order_by("weekday", "start_time")
    ):
        rules[rule.doctor_id].append(rule)
    return [(doctor, rules[doctor.pk]) for doctor in doctors]
