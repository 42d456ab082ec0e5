"""One way to write a moment or a day, per language (issue 19, item 13):
`12月2日 周三 14:00` and `Wed 2 Dec, 14:00`, with the year when it is not this year.

Templates use the `when`, `day`, `weekday` and `birthday` filters
(hospitals/templatetags/when.py); views call these functions. A moment is shown in the active
time zone (a template's `{% timezone hospital.timezone %}`, or `zone=`) and the active language.
The formats themselves are notifications/dates.py, shared with the messages."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.utils import timezone, translation

from notifications import dates


def _language() -> str:
    return translation.get_language() or ""


def format_weekday(day: dt.date) -> str:
    """`周三` / `Wed`: the weekday as the date strip and `format_day` write it."""
    return dates.format_weekday(day, language=_language())


def format_date(day: dt.date) -> str:
    """`1985年3月2日` / `2 Mar 1985`: a birth date, with its year, without a weekday."""
    return dates.format_date(day, language=_language())


def format_day(day: dt.date, *, today: dt.date | None = None) -> str:
    """`12月2日 周三` / `Wed 2 Dec`; `2027年1月5日 周二` / `Tue 5 Jan 2027` in another year."""
    return dates.format_day(day, language=_language(), today=today or timezone.localdate())


def format_when(moment: dt.datetime, *, zone: zoneinfo.ZoneInfo | None = None) -> str:
    """`12月2日 周三 14:00` / `Wed 2 Dec, 14:00` in `zone` (default: the active time zone)."""
    zone = zone or timezone.get_current_timezone()
    local = timezone.localtime(moment, zone) if timezone.is_aware(moment) else moment
    today = timezone.localtime(timezone.now(), zone).date()
    return dates.format_when(local, language=_language(), today=today)
