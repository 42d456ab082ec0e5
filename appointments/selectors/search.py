"""Search: doctors with a free period that matches what the patient asked for, and each one's
next free periods. Two queries whatever the number of doctors or slots."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import ExtractHour, RowNumber
from django.utils import timezone

from appointments.models import Slot
from appointments.selectors.slots import slots_bookable
from hospitals.models import Doctor
from hospitals.selectors import doctors_active

RESULT_LIMIT = 30
PERIODS_PER_DOCTOR = 3

# Local hours [from, to) of each part of the day, in the portal's time zone.
DAY_PARTS = {
    "morning": (0, 12),
    "afternoon": (12, 18),
    "evening": (18, 24),
}


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    day: dt.date | None = None
    day_part: str = ""
    mode: str = ""
    district: str = ""
    title: str = ""


@dataclass
class SearchResult:
    doctor: Doctor
    periods: list[Slot] = field(default_factory=list)


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def matching_slots(*, query: SearchQuery, now: dt.datetime) -> QuerySet[Slot]:
    """Bookable slots that fit the date, part of the day and mode asked for."""
    slots = slots_bookable(now=now)
    zone = _zone()
    if query.day is not None:
        begin = dt.datetime.combine(query.day, dt.time.min, tzinfo=zone)
        slots = slots.filter(start__gte=begin, start__lt=begin + dt.timedelta(days=1))
    if query.day_part in DAY_PARTS:
        low, high = DAY_PARTS[query.day_part]
        slots = slots.annotate(local_hour=ExtractHour("start", tzinfo=zone)).filter(
            local_hour__gte=low, local_hour__lt=high
        )
    if query.mode:
        slots = slots.filter(mode=query.mode)
    return slots


def _text_filter(text: str) -> Q:
    condition = Q()
    for word in text.split():
        condition &= (
            Q(name__icontains=word)
            | Q(name_en__icontains=word)
            | Q(specialties__icontains=word)
            | Q(specialties_en__icontains=word)
            | Q(department__name__icontains=word)
            | Q(department__name_en__icontains=word)
            | Q(hospital__name__icontains=word)
            | Q(hospital__name_en__icontains=word)
        )
    return condition


def doctors_matching(*, query: SearchQuery, now: dt.datetime) -> QuerySet[Doctor]:
    """Active doctors who match the words and filters and have a matching free period, the
    soonest free first: one query with the hospital and department joined."""
    slots = matching_slots(query=query, now=now).filter(doctor_id=OuterRef("pk"))
    doctors = (
        doctors_active()
        .filter(department__is_active=True)
        .filter(_text_filter(query.text))
        .filter(Exists(slots))
        .annotate(first_free=Subquery(slots.order_by("start").values("start")[:1]))
        .select_related("hospital", "department")
    )
    if query.district:
        doctors = doctors.filter(hospital__district=query.district)
    if query.title:
        doctors = doctors.filter(title=query.title)
    return doctors.order_by("first_free", "name", "pk")


def search_doctors(
    *, query: SearchQuery, now: dt.datetime | None = None, limit: int = RESULT_LIMIT
) -> list[SearchResult]:
    """Up to `limit` doctors, each with their next `PERIODS_PER_DOCTOR` matching free periods
    (each slot carries `places_left`)."""
    now = now or timezone.now()
    doctors = list(doctors_matching(query=query, now=now)[:limit])
    if not doctors:
        return []
    results = {doctor.pk: SearchResult(doctor=doctor) for doctor in doctors}
    ranked = (
        matching_slots(query=query, now=now)
        .filter(doctor_id__in=list(results))
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("doctor_id")], order_by=[F("start"), F("mode")]
            )
        )
        .filter(rank__lte=PERIODS_PER_DOCTOR)
        .select_related("site")
        .order_by("doctor_id", "start", "mode")
    )
    for slot in ranked:
        slot.places_left = slot.public_places_left(now=now)
        results[slot.doctor_id].periods.append(slot)
    return list(results.values())
