"""Search: doctors with a free period that matches what the patient asked for, and each one's
next free periods. Two queries whatever the number of doctors or slots, each reading a page of
plain values (no model objects), so the cost follows the page, not the city:

- without a date or part of the day, the doctors come from NextFreePeriod (one row per doctor
  and mode, walked in order of the next free period by an index): the rows still exact, plus
  the stale ones worked out from the slots in the same query;
- with a date or part of the day, from the matching bookable slots walked in order of their
  start (keyset pages of values, rarely more than one), the first period of each doctor kept.

Words are matched as prefixes of the searched names' suffixes (hospitals.search_names: names,
pinyin in full and as initials, a department's other names).

On PostgreSQL `search_doctors` runs the same search as one prepared statement
(appointments.selectors.search_sql); the querysets here are `search_doctors_portable`, for
SQLite, and the definition the statement is tested against."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import ExtractHour, JSONObject, RowNumber
from django.utils import timezone

from appointments.models import Mode, NextFreePeriod, Slot
from appointments.selectors import search_sql
from appointments.selectors.search_types import (
    DAY_PARTS,
    PAGE_ROWS,
    PERIODS_PER_DOCTOR,
    RESULT_LIMIT,
    ResultDoctor,
    ResultPeriod,
    ResultPlace,
    SearchQuery,
    SearchResult,
    first_of_each_doctor,
    portal_zone,
    soonest,
)
from appointments.selectors.slots import slots_bookable
from hospitals.models import DepartmentSearchName, Doctor, DoctorSearchName, HospitalSearchName
from hospitals.search_names import search_words


def matching_slots(*, query: SearchQuery, now: dt.datetime) -> QuerySet[Slot]:
    """Bookable slots that fit the date, part of the day and mode asked for."""
    slots = slots_bookable(now=now)
    zone = portal_zone()
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
                    f"{doctor_id}__in": DoctorSearchName.objects.filter(
                        text__startswith=word
                    ).values("doctor_id")
                }
            )
            | Q(
                **{
                    f"{prefix}department_id__in": DepartmentSearchName.objects.filter(
                        text__startswith=word
                    ).values("department_id")
                }
            )
            | Q(
                **{
                    f"{prefix}hospital_id__in": HospitalSearchName.objects.filter(
                        text__startswith=word
                    ).values("hospital_id")
                }
            )
        )
    return condition


def _matching_doctors(query: SearchQuery) -> QuerySet:
    """The ids of the doctors the words and filters allow, as a subquery: the queries that walk
    an index filter by it, so the planner keeps walking instead of joining every doctor."""
    return Doctor.objects.filter(_doctor_filter(query, "")).values("pk")


# What a result shows of its doctor, read with the periods (the last query of a search).
_DOCTOR_FIELDS = (
    "name",
    "name_en",
    "name_pinyin",
    "title",
    "specialties",
    "specialties_en",
    "hospital__kind",
    "hospital__name",
    "hospital__name_en",
    "hospital__district",
    "hospital__district_en",
    "department__name",
    "department__name_en",
)
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


def _doctor_of(pk: int, row: dict, prefix: str = "") -> ResultDoctor:
    return ResultDoctor(
        pk=pk,
        name=row[f"{prefix}name"],
        name_en=row[f"{prefix}name_en"],
        title=row[f"{prefix}title"],
        specialties=row[f"{prefix}specialties"],
        specialties_en=row[f"{prefix}specialties_en"],
        hospital=ResultPlace(
            name=row[f"{prefix}hospital__name"],
            name_en=row[f"{prefix}hospital__name_en"],
            kind=row[f"{prefix}hospital__kind"],
            district=row[f"{prefix}hospital__district"],
            district_en=row[f"{prefix}hospital__district_en"],
        ),
        department=ResultPlace(
            name=row[f"{prefix}department__name"], name_en=row[f"{prefix}department__name_en"]
        ),
    )


def next_free_rows(*, query: SearchQuery, now: dt.datetime, limit: int = RESULT_LIMIT):
    """No date or part of the day: one query over NextFreePeriod, (doctor_id, first) of the
    doctors with a free period. The exact rows walk the start index in order of (start,
    doctor), the order the soonest doctors are chosen in, and stop after `2 × limit` (a doctor
    has at most one row a mode); the stale ones (few: the beat recomputes them) take
    their first bookable slot from the slot table."""
    rows = NextFreePeriod.objects.filter(doctor_id__in=_matching_doctors(query))
    if query.mode:
        rows = rows.filter(mode=query.mode)
    exact = (
        rows.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now), start__gt=now)
        .annotate(first=F("start"))
        .values("doctor_id", "first")
        .order_by()
    )
    live = slots_bookable(now=now).filter(doctor_id=OuterRef("doctor_id"), mode=OuterRef("mode"))
    stale = (
        rows.filter(valid_until__lte=now)
        .annotate(first=Subquery(live.order_by("start").values("start")[:1]))
        .values("doctor_id", "first")
        .order_by()
    )
    if connection.features.supports_slicing_ordering_in_compound:
        exact = exact.order_by("start", "doctor_id")[: limit * len(Mode.values)]
    return exact.union(stale, all=True)


def matching_slot_rows(
    *, query: SearchQuery, now: dt.datetime, after: tuple[dt.datetime, int] | None = None
) -> QuerySet:
    """A date or part of the day: one page of the matching bookable slots in order of start,
    after the keyset `after` (start, id): (id, doctor_id, first, matches), where `matches`
    says whether the doctor fits the words and filters.

    The page is chosen from the slot table alone, walking `slot_start_id_idx`, and the doctor
    is checked on its rows: joined to the doctors, PostgreSQL underestimates how many of a
    day's slots are free and sorts all of them (2,000 at 1,000,000 slots) instead. With words
    (few doctors) the doctors are part of the choice, so a page is never mostly other doctors."""
    walk = matching_slots(query=query, now=now)
    if query.text:
        walk = walk.filter(doctor_id__in=_matching_doctors(query))
        matches = Value(True)
    else:
        # Checked through the slot's own doctor, hospital and department rows (a few index
        # probes a page), not a hash of every doctor.
        matches = ExpressionWrapper(_doctor_filter(query, "doctor__"), output_field=BooleanField())
    if after is not None:
        walk = walk.filter(Q(start__gt=after[0]) | Q(start=after[0], id__gt=after[1]))
    page = walk.order_by("start", "id").values("id")[:PAGE_ROWS]
    return (
        Slot.objects.filter(pk__in=page)
        .annotate(first=F("start"), matches=matches)
        .order_by("start", "id")
        .values("id", "doctor_id", "first", "matches")
    )


def _doctors_by_matching_slots(*, query: SearchQuery, now: dt.datetime, limit: int) -> dict:
    """Pages of matching slots until `limit` doctors are found (rarely more than one)."""
    found: dict[int, dt.datetime] = {}
    after: tuple[dt.datetime, int] | None = None
    while len(found) < limit:
        rows = list(matching_slot_rows(query=query, now=now, after=after))
        first_of_each_doctor((row for row in rows if row["matches"]), found)
        if len(rows) < PAGE_ROWS:
            break
        after = (rows[-1]["first"], rows[-1]["id"])
    return soonest(found, limit)


def period_rows(*, query: SearchQuery, now: dt.datetime, doctor_ids: list[int]) -> QuerySet:
    """What each of these doctors shows, with their next `PERIODS_PER_DOCTOR` matching free
    periods. On PostgreSQL one row a doctor, its periods an array of JSON objects from a small
    index walk; elsewhere one row a period (a window over their matching slots), each with
    its doctor's fields."""
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
            .values("pk", "periods", *_DOCTOR_FIELDS)
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
        .values("doctor_id", *_PERIOD_FIELDS, *(f"doctor__{name}" for name in _DOCTOR_FIELDS))
    )


def _period(p: dict, now: dt.datetime) -> ResultPeriod:
    left = p["capacity"] - p["booked"]
    if now >= p["referral_merge_at"]:
        left += p["referral_capacity"] - p["referral_booked"]
    return ResultPeriod(
        pk=p["id"],
        start=p["start"],
        end=p["end"],
        mode=p["mode"],
        places_left=max(left, 0),
        timezone=p["site_timezone"] if "site_timezone" in p else p["site__timezone"],
    )


def _results(
    *, query: SearchQuery, now: dt.datetime, found: dict[int, dt.datetime]
) -> list[SearchResult]:
    """The found doctors with what they show and their periods, in one query, soonest first
    (then by the pinyin of the name)."""
    results: dict[int, SearchResult] = {}
    keys: dict[int, tuple] = {}
    for row in period_rows(query=query, now=now, doctor_ids=list(found)):
        if "periods" in row:  # PostgreSQL: one row a doctor
            doctor_id = row["pk"]
            result = SearchResult(doctor=_doctor_of(doctor_id, row), first_free=found[doctor_id])
            for period in row["periods"] or []:
                for name in ("start", "end", "referral_merge_at"):
                    period[name] = dt.datetime.fromisoformat(period[name])
                result.periods.append(_period(period, now))
            name_pinyin = row["name_pinyin"]
        else:
            doctor_id = row["doctor_id"]
            if doctor_id not in results:
                doctor = _doctor_of(doctor_id, row, prefix="doctor__")
                results[doctor_id] = SearchResult(doctor=doctor, first_free=found[doctor_id])
            result = results[doctor_id]
            result.periods.append(_period(row, now))
            name_pinyin = row["doctor__name_pinyin"]
        results[doctor_id] = result
        keys[doctor_id] = (found[doctor_id], name_pinyin, doctor_id)
    return [results[pk] for pk in sorted(results, key=keys.__getitem__)]


def search_doctors(
    *, query: SearchQuery, now: dt.datetime | None = None, limit: int = RESULT_LIMIT
) -> list[SearchResult]:
    """Up to `limit` doctors with a matching free period, the soonest first, each with their
    next `PERIODS_PER_DOCTOR` matching free periods (each with `places_left`). On PostgreSQL one
    statement (search_sql), elsewhere two queries (`search_doctors_portable`)."""
    now = now or timezone.now()
    if connection.vendor != "postgresql":
        return search_doctors_portable(query=query, now=now, limit=limit)
    return search_sql.search(query=query, now=now, limit=limit)


def search_doctors_portable(
    *, query: SearchQuery, now: dt.datetime | None = None, limit: int = RESULT_LIMIT
) -> list[SearchResult]:
    """`search_doctors` through the ORM's querysets above, on any database (SQLite in
    development; on PostgreSQL the tests hold the two to the same answers)."""
    now = now or timezone.now()
    if query.day is not None or query.day_part in DAY_PARTS:
        found = _doctors_by_matching_slots(query=query, now=now, limit=limit)
    else:
        found = {}
        first_of_each_doctor(next_free_rows(query=query, now=now, limit=limit), found)
        found = soonest(found, limit)
    if not found:
        return []
    return _results(query=query, now=now, found=found)
