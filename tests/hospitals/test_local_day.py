"""A hospital's local day runs from its local midnight to the next: 23 hours on the day the
clocks spring forward, 25 on the day they fall back, 24 in a zone without summer time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hospitals.models import Hospital

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")


def hospital(zone: str) -> Hospital:
    # Computed from the row alone, so an unsaved hospital will do.
    return Hospital(timezone=zone)


def test_local_day_bounds_span_23_hours_on_a_spring_forward_day():
    start, end = hospital("America/New_York").local_day_bounds(dt.date(2026, 3, 8))

    assert start == dt.datetime(2026, 3, 8, 5, tzinfo=UTC)  # midnight EST (-5)
    assert end == dt.datetime(2026, 3, 9, 4, tzinfo=UTC)  # midnight EDT (-4)
    # Same-zone subtraction in Python is wall-clock time; elapsed time is measured in UTC.
    assert end.astimezone(UTC) - start.astimezone(UTC) == dt.timedelta(hours=23)


def test_local_day_bounds_span_25_hours_on_a_fall_back_day():
    start, end = hospital("America/New_York").local_day_bounds(dt.date(2026, 11, 1))

    assert start == dt.datetime(2026, 11, 1, 4, tzinfo=UTC)  # midnight EDT (-4)
    assert end == dt.datetime(2026, 11, 2, 5, tzinfo=UTC)  # midnight EST (-5)
    assert end.astimezone(UTC) - start.astimezone(UTC) == dt.timedelta(hours=25)


def test_local_day_bounds_in_shanghai_are_midnight_to_midnight_at_utc_plus_8():
    start, end = hospital("Asia/Shanghai").local_day_bounds(dt.date(2026, 3, 8))

    assert start == dt.datetime(2026, 3, 7, 16, tzinfo=UTC)
    assert end == dt.datetime(2026, 3, 8, 16, tzinfo=UTC)


def test_consecutive_local_days_meet_without_gap_or_overlap_across_the_change():
    new_york = hospital("America/New_York")
    days = [dt.date(2026, 3, 7) + dt.timedelta(days=n) for n in range(3)]
    bounds = [new_york.local_day_bounds(day) for day in days]

    assert all(bounds[n][1] == bounds[n + 1][0] for n in range(len(bounds) - 1))


def test_local_date_is_the_date_on_the_hospitals_calendar():
    moment = dt.datetime(2026, 3, 8, 3, 30, tzinfo=UTC)  # 22:30 the day before in New York

    assert hospital("America/New_York").local_date(moment) == dt.date(2026, 3, 7)
    assert hospital("Asia/Shanghai").local_date(moment) == dt.date(2026, 3, 8)
    # The last instant of a local day still belongs to it; its end belongs to the next.
    start, end = hospital("America/New_York").local_day_bounds(dt.date(2026, 11, 1))
    assert hospital("America/New_York").local_date(end - dt.timedelta(microseconds=1)) == (
        dt.date(2026, 11, 1)
    )
    assert hospital("America/New_York").local_date(end) == dt.date(2026, 11, 2)
    assert start.astimezone(NEW_YORK).hour == 0
