"""`{{ slot.start|when }}` → `12月2日 周三 14:00` / `Wed 2 Dec, 14:00`; `{{ a_date|day }}` →
`12月2日 周三` / `Wed 2 Dec`; `{{ person.birth_date|birthday }}` → `1985年3月2日` / `2 Mar 1985`
(hospitals/when.py). The only date formats of the pages: a test fails on a `date` filter that
writes a date for a person (tests/hospitals/test_one_date_format.py)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

from hospitals.when import format_date, format_day, format_weekday, format_when

register = template.Library()


@register.filter
def when(value) -> str:
    if isinstance(value, dt.datetime):
        return format_when(value)
    if isinstance(value, dt.date):
        return format_day(value)
    return ""


@register.filter
def day(value) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return format_day(value.date())
    if isinstance(value, dt.date):
        return format_day(value)
    return ""


@register.filter
def weekday(value) -> str:
    """`周三` / `Wed`."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return format_weekday(value) if isinstance(value, dt.date) else ""


@register.filter
def birthday(value) -> str:
    """`1985年3月2日` / `2 Mar 1985`: a date that is not an occasion, so no weekday."""
    if isinstance(value, dt.datetime):
        value = value.date()
    return format_date(value) if isinstance(value, dt.date) else ""
