"""Search: doctors with a free period that matches what the patient asked for, and each one's
next free periods. Two queries whatever the number of doctors or slots, each reading a page of
plain values (no model objects), so the cost follows the page, not the city:

- without a date or part of the day, the doctors come from NextFreePeriod (one row per doctor
  and mode, walked in order of the next free period by an index): the rows still exact, plus
  the stale ones worked out from the slots in the same query;
- with a date or part of the day, from the matching bookable slots walked in order of their
  start (keyset pages of values, rarely more than one), the first period of each doctor kept.

Words are matched against the searched names of hospitals.search_names (names, pinyin in full
and as initials, a department's other names)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import ExtractHour, JSONObject, RowNumber
from django.utils import timezone
from django.utils.translation import get_language

from appointments.models import Mode, NextFreePeriod, Slot
from appointments.selectors.slots import slots_bookable
from hospitals.models import DepartmentSearchName, Doctor, DoctorSearchName, HospitalSearchName
from hospitals.search_names import search_words

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


def _in_language(chinese: str, english: str) -> str:
    return english if english and (get_language() or "").startswith("en") else chinese


@dataclass(frozen=True, slots=True)
class ResultPlace:
    """A hospital or department as a result shows it."""

    name: str
    name_en: str
    kind: str = ""
    district: str = ""
    district_en: str = ""

    @property
    def display_name(self) -> str:
        return _in_language(self.name, self.name_en)

    @property
    def display_district(self) -> str:
        return _in_language(self.district, self.district_en)


@dataclass(frozen=True, slots=True)
class ResultDoctor:
    pk: int
    name: str
    name_en: str
    title: str
    specialties: str
    specialties_en: str
    hospital: ResultPlace
    department: ResultPlace

    @property
    def display_name(self) -> str:
        return _in_language(self.name, self.name_en)

    @property
    def display_specialties(self) -> str:
        return _in_language(self.specialties, self.specialties_en)

    def get_title_display(self) -> str:
        return str(Doctor.Title(self.title).label)


@dataclass(frozen=True, slots=True)
class ResultPeriod:
    pk: int
    start: dt.datetime
    end: dt.datetime
    mode: str
    places_left: int
    timezone: str

    def get_mode_display(self) -> str:
        return str(Mode(self.mode).label)


@dataclass
class SearchResult:
    doctor: ResultDoctor
    first_free: dt.datetime | None = None
    periods: list[ResultPeriod] = field(default_factory=list)


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def matching_slots(*, query: SearchQuery, now: dt.datetime) -> QuerySet[Slot]:
    """Bookable slots that fit the date, part of the day and mode asked for."""
    slots = slots_bookable(now=now)
    zone = _zone()
    if query.day is not None:
        low, high = DAY_PARTS.get(query.day_part, (0, 24))
        midnight = dt.datetime.combine(query.day, dt.time.min, tzinfo=zone)
        # The part of the day is a range of starts on that day: the start index serves it.
        slots = slots.filter(
            start__gte=midnight + dt.timedelta(hours=low),
            start__lt=midnight + dt.timedelta(hours=high),
        )
    elif query.day_part in DAY_PARTS:
        low, high = DAY_PARTS[query.day_part]
        slots = slots.annotate(local_hour=ExtractHour("start", tzinfo=zone)).filter(
            local_hour__gte=low, local_hour__lt=high
        )
    if query.mode:
        slots = slots.filter(mode=query.mode)
    return slots


def _doctor_filter(query: SearchQuery, prefix: str) -> Q:
    """The conditions on the doctor (reached through `prefix`, "" or "doctor__") that every
    search applies: active, in an active hospital and department, and what was asked."""
    condition = Q(
        **{
            f"{prefix}is_active": True,
            f"{prefix}hospital__is_active": True,
            f"{prefix}department__is_active": True,
        }
    )
    if query.district:
        condition &= Q(**{f"{prefix}hospital__district": query.district})
    if query.title:
        condition &= Q(**{f"{prefix}title": query.title})
    doctor_id = f"{prefix}id" if prefix else "pk"
    for word in search_words(query.text):
        condition &= (
            Q(
                **{
                    f"{doctor_id}__in": DoctorSearchName.objects.filter(text__contains=word).values(
                        "doctor_id"
                    )
                }
            )
            | Q(
                **{
                    f"{prefix}department_id__in": DepartmentSearchName.objects.filter(
                        text__contains=word
                    ).values("department_id")
                }
            )
            | Q(
                **{
                    f"{prefix}hospital_id__in": HospitalSearchName.objects.filter(
                        text__contains=word
                    ).values("hospital_id")
                }
            )
        )
    return condition


_DOCTOR_FIELDS = (
    "doctor__name",
    "doctor__name_en",
    "doctor__name_pinyin",
    "doctor__title",
    "doctor__specialties",
    "doctor__specialties_en",
    "doctor__hospital__kind",
    "doctor__hospital__name",
    "doctor__hospital__name_en",
    "doctor__hospital__district",
    "doctor__hospital__district_en",
    "doctor__department__name",
    "doctor__department__name_en",
)


def _result(row: dict) -> SearchResult:
    doctor = ResultDoctor(
        pk=row["doctor_id"],
        name=row["doctor__name"],
        name_en=row["doctor__name_en"],
        title=row["doctor__title"],
        specialties=row["doctor__specialties"],
        specialties_en=row["doctor__specialties_en"],
        hospital=ResultPlace(
            name=row["doctor__hospital__name"],
            name_en=row["doctor__hospital__name_en"],
            kind=row["doctor__hospital__kind"],
            district=row["doctor__hospital__district"],
            district_en=row["doctor__hospital__district_en"],
        ),
        department=ResultPlace(
            name=row["doctor__department__name"], name_en=row["doctor__department__name_en"]
        ),
    )
    return SearchResult(doctor=doctor, first_free=row["first"])


def _first_of_each_doctor(rows, found: dict[int, dict]) -> None:
    for row in rows:
        best = found.get(row["doctor_id"])
        if row["first"] is not None and (best is None or row["first"] < best["first"]):
            found[row["doctor_id"]] = row


def _ranked(found: dict[int, dict], limit: int) -> list[SearchResult]:
    rows = sorted(
        found.values(), key=lambda r: (r["first"], r["doctor__name_pinyin"], r["doctor_id"])
    )
    return [_result(row) for row in rows[:limit]]


def next_free_rows(*, query: SearchQuery, now: dt.datetime, limit: int = RESULT_LIMIT):
    """No date or part of the day: one query over NextFreePeriod, values of doctor and first
    free period. The exact rows walk the start index and stop after `2 × limit` (a doctor has at
    most one row a mode); the stale ones (few: the beat recomputes them) take their first
    bookable slot from the slot table."""
    rows = NextFreePeriod.objects.filter(_doctor_filter(query, "doctor__"))
    if query.mode:
        rows = rows.filter(mode=query.mode)
    exact = (
        rows.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now), start__gt=now)
        .annotate(first=F("start"))
        .values("doctor_id", "first", *_DOCTOR_FIELDS)
        .order_by()
    )
    live = slots_bookable(now=now).filter(doctor_id=OuterRef("doctor_id"), mode=OuterRef("mode"))
    stale = (
        rows.filter(valid_until__lte=now)
        .annotate(first=Subquery(live.order_by("start").values("start")[:1]))
        .values("doctor_id", "first", *_DOCTOR_FIELDS)
        .order_by()
    )
    if connection.features.supports_slicing_ordering_in_compound:
        exact = exact.order_by("start")[: limit * len(Mode.values)]
    return exact.union(stale, all=True)


PAGE_ROWS = RESULT_LIMIT * 4


def matching_slot_rows(*, query: SearchQuery, now: dt.datetime) -> QuerySet:
    """A date or part of the day: values of the matching bookable slots and their doctors, in
    order of start (read a page at a time, keyset on start and id)."""
    return (
        matching_slots(query=query, now=now)
        .filter(_doctor_filter(query, "doctor__"))
        .annotate(first=F("start"))
        .order_by("start", "id")
        .values("id", "doctor_id", "first", *_DOCTOR_FIELDS)
    )


def _doctors_by_matching_slots(*, query: SearchQuery, now: dt.datetime, limit: int) -> list:
    """Pages of matching slots until `limit` doctors are found (rarely more than one)."""
    slots = matching_slot_rows(query=query, now=now)
    found: dict[int, dict] = {}
    after: tuple[dt.datetime, int] | None = None
    while len(found) < limit:
        page = slots
        if after is not None:
            page = page.filter(Q(start__gt=after[0]) | Q(start=after[0], id__gt=after[1]))
        rows = list(page[:PAGE_ROWS])
        _first_of_each_doctor(rows, found)
        if len(rows) < PAGE_ROWS:
            break
        after = (rows[-1]["first"], rows[-1]["id"])
    return _ranked(found, limit)


_PERIOD_FIELDS = (
    "id",
    "start",
    "end",
    "mode",
    "capacity",
    "booked",
    "referral_capacity",
    "referral_booked",
    "referral_merge_at",
    "site__timezone",
)


def period_rows(*, query: SearchQuery, now: dt.datetime, doctor_ids: list[int]) -> QuerySet:
    """The next `PERIODS_PER_DOCTOR` matching free periods of each of these doctors. On
    PostgreSQL one small index walk per doctor (an array of JSON objects each); elsewhere a
    window over their matching slots."""
    slots = matching_slots(query=query, now=now)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.expressions import ArraySubquery

        first = (
            slots.filter(doctor_id=OuterRef("pk"))
            .order_by("start", "mode")
            .values(json=JSONObject(**{name.replace("__", "_"): name for name in _PERIOD_FIELDS}))
        )
        return (
            Doctor.objects.filter(pk__in=doctor_ids)
            .annotate(periods=ArraySubquery(first[:PERIODS_PER_DOCTOR]))
            .values_list("pk", "periods")
        )
    return (
        slots.filter(doctor_id__in=doctor_ids)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("doctor_id")], order_by=[F("start"), F("mode")]
            )
        )
        .filter(rank__lte=PERIODS_PER_DOCTOR)
        .order_by("doctor_id", "start", "mode")
        .values_list("doctor_id", *_PERIOD_FIELDS)
    )


def _period_rows_by_doctor(rows) -> dict[int, list[dict]]:
    names = [name.replace("__", "_") for name in _PERIOD_FIELDS]
    periods: dict[int, list[dict]] = {}
    for row in rows:
        if isinstance(row[1], list):  # PostgreSQL: (doctor, [period as JSON, …])
            for period in row[1]:
                for name in ("start", "end", "referral_merge_at"):
                    period[name] = dt.datetime.fromisoformat(period[name])
                periods.setdefault(row[0], []).append(period)
        else:
            periods.setdefault(row[0], []).append(dict(zip(names, row[1:], strict=True)))
    return periods


def _periods(*, query: SearchQuery, now: dt.datetime, results: list[SearchResult]) -> None:
    """Each result's next matching free periods, in one query."""
    by_doctor = {result.doctor.pk: result for result in results}
    rows = period_rows(query=query, now=now, doctor_ids=list(by_doctor))
    for doctor_id, periods in _period_rows_by_doctor(rows).items():
        for p in periods:
            left = p["capacity"] - p["booked"]
            if now >= p["referral_merge_at"]:
                left += p["referral_capacity"] - p["referral_booked"]
            by_doctor[doctor_id].periods.append(
                ResultPeriod(
                    pk=p["id"],
                    start=p["start"],
                    end=p["end"],
                    mode=p["mode"],
                    places_left=max(left, 0),
                    timezone=p["site_timezone"],
                )
            )


def search_doctors(
    *, query: SearchQuery, now: dt.datetime | None = None, limit: int = RESULT_LIMIT
) -> list[SearchResult]:
    """Up to `limit` doctors with a matching free period, the soonest first, each with their
    next `PERIODS_PER_DOCTOR` matching free periods (each with `places_left`)."""
    now = now or timezone.now()
    if query.day is not None or query.day_part in DAY_PARTS:
        results = _doctors_by_matching_slots(query=query, now=now, limit=limit)
    else:
        found: dict[int, dict] = {}
        _first_of_each_doctor(next_free_rows(query=query, now=now, limit=limit), found)
        results = _ranked(found, limit)
    if results:
        _periods(query=query, now=now, results=results)
    return results
