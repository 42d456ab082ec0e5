"""What a search asks and answers (appointments.selectors.search): the query, the results as
plain dataclasses, and the small helpers both of its query paths share."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import get_language

from appointments.models import Mode
from hospitals.models import Doctor

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


def portal_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


PAGE_ROWS = RESULT_LIMIT * 4


def first_of_each_doctor(rows, found: dict[int, dt.datetime]) -> None:
    """Keep each doctor's soonest `first` of rows (dicts, or tuples that begin with
    the id and first, or id, doctor_id and first)."""
    for row in rows:
        if isinstance(row, dict):
            doctor_id, first = row["doctor_id"], row["first"]
        elif len(row) == 2:
            doctor_id, first = row
        else:
            doctor_id, first = row[1], row[2]
        best = found.get(doctor_id)
        if first is not None and (best is None or first < best):
            found[doctor_id] = first


def soonest(found: dict[int, dt.datetime], limit: int) -> dict[int, dt.datetime]:
    return dict(sorted(found.items(), key=lambda item: (item[1], item[0]))[:limit])
