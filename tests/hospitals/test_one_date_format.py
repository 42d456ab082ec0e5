"""One date format per language everywhere a person reads a date (issue 19, item 13): the pages
use the `when`/`day`/`birthday` filters, never Django's `date` filter with a format of its own,
and a record page and every channel of a message write `12月2日 周三 14:00` / `Wed 2 Dec, 14:00`."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from appointments.services import appointment_book
from notifications.models import OutboxMessage
from notifications.render import message_render
from tests.appointments.conftest import open_slot, person
from tests.records.conftest import record_with_two_hospitals

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI)  # a Wednesday

# `{{ x|date:"…" }}` may only write for machines: an ISO value in an attribute (`datetime=`,
# `href=`, `data-…=`) or a `{% url %}`/`{% with %}`/`{% if %}` that compares or links days.
MACHINE_FORMATS = {"c", "Y-m-d"}
MACHINE_TAG = re.compile(r"\{%\s*(url|with|if|elif)\b[^%]*$")
IN_ATTRIBUTE = re.compile(r"""<[^<>]*\s[\w:-]+=["'][^"'<>]*$""")
# The date strip's cells (`周三` over `12/2`) are too narrow for `12月2日`.
NARROW_CELLS = {("appointments/templates/appointments/includes/doctor_grid.html", "n/j")}


def _tracked(*patterns: str) -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in names if not name.startswith(("tests/", "bench/"))]


def _date_filter_misuses(text: str, name: str) -> list[str]:
    found = []
    for match in re.finditer(r"""\|date:\s*["']([^"']*)["']""", text):
        before = text[: match.start()]
        line = before.count("\n") + 1
        fmt = match.group(1)
        if (name, fmt) in NARROW_CELLS:
            continue
        machine = fmt in MACHINE_FORMATS and (
            IN_ATTRIBUTE.search(before) or MACHINE_TAG.search(before)
        )
        if not machine:
            found.append(f"{name}:{line} |date:{fmt!r}")
    return found


def test_no_template_writes_a_date_for_a_person_with_the_date_filter():
    templates = _tracked("*/templates/*.html", "*/templates/*.txt")
    assert len(templates) > 100  # the scan sees the project's templates
    misuses = []
    for path in templates:
        misuses += _date_filter_misuses(path.read_text(), str(path.relative_to(ROOT)))
    assert misuses == [], "use |when, |day or |birthday (hospitals/templatetags/when.py)"


def test_the_guard_tells_a_persons_date_from_a_machines():
    assert _date_filter_misuses('<p>{{ x|date:"Y-m-d" }}</p>', "t") == ["t:1 |date:'Y-m-d'"]
    assert _date_filter_misuses('{% blocktranslate with d=x|date:"Y-m-d" %}', "t") != []
    assert _date_filter_misuses("<p>{{ x|date:'SHORT_DATE_FORMAT' }}</p>", "t") != []
    assert _date_filter_misuses("""<time datetime="{{ x|date:'c' }}">""", "t") == []
    assert _date_filter_misuses("""<a href="{% url 'day' day=d|date:'Y-m-d' %}">""", "t") == []


def test_no_python_code_formats_a_date_with_djangos_locale_formats():
    """Views and services write dates with hospitals.when / notifications.dates."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in _tracked("*.py")
        if re.search(r"\bdate_format\(|formats\.localize|\bnaturalday\b", path.read_text())
    ]
    assert offenders == []


pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "moment", "day"),
    [
        ("zh-hans", "11月22日 周日 14:00", "11月22日 周日"),
        ("en", "Sun 22 Nov, 14:00", "Sun 22 Nov"),
    ],
)
def test_a_record_page_writes_its_dates_one_way(client, language, moment, day):
    with time_machine.travel(NOW, tick=False):
        record = record_with_two_hospitals()
        encounter = record.encounter_b
        encounter.started_at = dt.datetime(2026, 11, 22, 14, 0, tzinfo=SHANGHAI)
        encounter.save(update_fields=["started_at"])
        # A signed note is never saved again: set the signature's moment in the table.
        type(record.note_b).objects.filter(pk=record.note_b.pk).update(
            signed_at=encounter.started_at
        )
        client.force_login(record.reader)
        client.cookies["django_language"] = language
        html = client.get(reverse("record_mine")).content.decode()

    assert day in html  # the encounter's heading
    assert moment in html  # the note's signature
    assert not re.search(r"\b2026-11-22\b", html)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-hans", "12月9日 周三 14:00"), ("en", "Wed 9 Dec, 14:00")],
)
def test_every_channel_of_a_message_writes_the_pages_format(language, expected):
    with time_machine.travel(NOW, tick=False):
        slot = open_slot(
            start=dt.datetime(2026, 12, 9, 14, 0, tzinfo=SHANGHAI),
            end=dt.datetime(2026, 12, 9, 14, 30, tzinfo=SHANGHAI),
            release_at=NOW - dt.timedelta(days=1),
        )
        patient, account = person()
        with translation.override(language):
            appointment_book(patient=patient, slot=slot, booked_by=account)
        rows = OutboxMessage.objects.filter(account=account, kind="appointment.booked")
        assert {row.channel for row in rows} >= {"email", "sms", "inapp"}
        for row in rows:
            rendered = message_render(kind=row.kind, params=row.params, language=row.language)
            assert row.language == language
            assert expected in rendered.title
            if row.channel == "sms":
                assert expected in "".join(rendered.sms)
                assert all(len(part) <= 70 or part.isascii() for part in rendered.sms)
            else:
                assert expected in rendered.body and expected in rendered.inbox
