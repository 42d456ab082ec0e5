"""One date format per language (issue 19, item 13): `12月2日 周三 14:00` and `Wed 2 Dec, 14:00`,
with the year when it is not this year; the `when`, `day` and `weekday` filters write them."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.template import Context, Template
from django.utils import translation

from hospitals.when import format_day, format_when

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI)
MOMENT = dt.datetime(2026, 12, 2, 14, 0, tzinfo=SHANGHAI)
NEXT_YEAR = dt.datetime(2027, 1, 5, 8, 30, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("language", "moment", "expected"),
    [
        ("zh-hans", MOMENT, "12月2日 周三 14:00"),
        ("en", MOMENT, "Wed 2 Dec, 14:00"),
        ("zh-hans", NEXT_YEAR, "2027年1月5日 周二 08:30"),
        ("en", NEXT_YEAR, "Tue 5 Jan 2027, 08:30"),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_a_moment_is_written_one_way_per_language_with_the_year_only_when_another(
    language, moment, expected
):
    with translation.override(language):
        assert format_when(moment, zone=SHANGHAI) == expected


@time_machine.travel(NOW, tick=False)
def test_a_moment_is_shown_in_the_zone_asked_for():
    utc = MOMENT.astimezone(dt.UTC)  # 06:00 UTC
    with translation.override("en"):
        assert format_when(utc, zone=SHANGHAI) == "Wed 2 Dec, 14:00"
        assert format_when(utc, zone=zoneinfo.ZoneInfo("Europe/London")) == "Wed 2 Dec, 06:00"


@time_machine.travel(NOW, tick=False)
def test_the_filters_use_the_templates_time_zone():
    template = Template(
        "{% load tz when %}{% timezone 'Asia/Shanghai' %}"
        "{{ moment|when }}|{{ moment|day }}|{{ moment|weekday }}|{{ date|when }}{% endtimezone %}"
    )
    context = Context({"moment": MOMENT.astimezone(dt.UTC), "date": dt.date(2026, 12, 3)})
    with translation.override("zh-hans"):
        assert template.render(context) == "12月2日 周三 14:00|12月2日 周三|周三|12月3日 周四"
    with translation.override("en"):
        assert template.render(context) == "Wed 2 Dec, 14:00|Wed 2 Dec|Wed|Thu 3 Dec"
    assert Template("{% load when %}{{ nothing|when }}").render(Context({})) == ""


@time_machine.travel(NOW, tick=False)
def test_a_day_alone_has_no_time():
    with translation.override("en"):
        assert format_day(dt.date(2026, 12, 25)) == "Fri 25 Dec"
