"""One way to write a moment or a day, per language (issue 19, item 13):
`12月2日 周三 14:00` and `Wed 2 Dec, 14:00`, with the year when it is not this year.

Templates use the `when` and `day` filters (hospitals/templatetags/when.py); messages and views
call these functions. A moment is shown in the active time zone (a template's
`{% timezone hospital.timezone %}`, or `zone=`)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.utils import timezone, translation

_WEEKDAYS_ZH = "一二三四五六日"
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _chinese() -> bool:
    return (translation.get_language() or "").lower().startswith("zh")


def format_weekday(day: dt.date) -> str:
    """`周三` / `Wed`: the weekday as the date strip and `format_day` write it."""
    if _chinese():
        return f"周{_WEEKDAYS_ZH[day.weekday()]}"
    return _WEEKDAYS_EN[day.weekday()]


def format_day(day: dt.date, *, today: dt.date | None = None) -> str:
    """`12月2日 周三` / `Wed 2 Dec`; `2027年1月5日 周二` / `Tue 5 Jan 2027` in another year."""
    today = today or timezone.localdate()
    other_year = day.year != today.year
    if _chinese():
        year = f"{day.year}年" if other_year else ""
        return f"{year}{day.month}月{day.day}日 {format_weekday(day)}"
    year = f" {day.year}" if other_year else ""
    return f"{format_weekday(day)} {day.day} {_MONTHS_EN[day.month - 1]}{year}"


def format_when(moment: dt.datetime, *, zone: zoneinfo.ZoneInfo | None = None) -> str:
    """`12月2日 周三 14:00` / `Wed 2 Dec, 14:00` in `zone` (default: the active time zone)."""
    zone = zone or timezone.get_current_timezone()
    local = timezone.localtime(moment, zone) if timezone.is_aware(moment) else moment
    day = format_day(local.date(), today=timezone.localtime(timezone.now(), zone).date())
    separator = " " if _chinese() else ", "
    return f"{day}{separator}{local:%H:%M}"
