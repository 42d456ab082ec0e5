"""One way to write a day or a moment, per language (issue 19, item 13): `12月2日 周三 14:00`
and `Wed 2 Dec, 14:00`, with the year when it is not this year. The language is a parameter so
that a message renders in its reader's language; pages use hospitals/when.py (the active
language and time zone) and its template filters. Lives here, the lowest app that writes dates
for people, so that messages and pages share it."""

from __future__ import annotations

import datetime as dt

_WEEKDAYS_ZH = "一二三四五六日"
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def is_chinese(language: str) -> bool:
    return (language or "").lower().startswith("zh")


def format_weekday(day: dt.date, *, language: str) -> str:
    """`周三` / `Wed`."""
    if is_chinese(language):
        return f"周{_WEEKDAYS_ZH[day.weekday()]}"
    return _WEEKDAYS_EN[day.weekday()]


def format_date(day: dt.date, *, language: str) -> str:
    """`1985年3月2日` / `2 Mar 1985`: a date that is not an occasion (a birth date), always
    with its year and without a weekday."""
    if is_chinese(language):
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def format_day(day: dt.date, *, language: str, today: dt.date) -> str:
    """`12月2日 周三` / `Wed 2 Dec`; `2027年1月5日 周二` / `Tue 5 Jan 2027` in another year."""
    other_year = day.year != today.year
    weekday = format_weekday(day, language=language)
    if is_chinese(language):
        year = f"{day.year}年" if other_year else ""
        return f"{year}{day.month}月{day.day}日 {weekday}"
    year = f" {day.year}" if other_year else ""
    return f"{weekday} {day.day} {_MONTHS_EN[day.month - 1]}{year}"


def format_when(local: dt.datetime, *, language: str, today: dt.date) -> str:
    """`12月2日 周三 14:00` / `Wed 2 Dec, 14:00` of a moment already in the reader's zone."""
    separator = " " if is_chinese(language) else ", "
    day = format_day(local.date(), language=language, today=today)
    return f"{day}{separator}{local:%H:%M}"
