"""Every action code the apps write into the trail reads as a sentence in both languages, and
a doctor's console history shows those sentences, never the raw codes."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone, translation

from appointments.models import Appointment
from appointments.services import schedule_rule_create, slots_generate
from audit.labels import ACTION_SENTENCES, action_sentence, actor_name
from tests.conftest import with_totp
from tests.factories import DoctorFactory, StaffMembershipFactory

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "audit", "notifications", "hospitals", "records", "appointments")
APPS += ("telemedicine", "portal")  # appointments/familydoctors is inside appointments
LITERAL = re.compile(r"""(?:action|verb)\s*=\s*"([a-z_]+\.[a-z_]+)\"""")
CLINICAL = re.compile(r"""clinical_audit\([^,]+,\s*"([a-z_]+\.[a-z_]+)\"""")
CONSULT = re.compile(r"""_audit\(\s*consultation,[^)]*?action="([a-z_]+)\"""", re.S)


def codes_in_source() -> set[str]:
    codes: set[str] = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            codes |= set(LITERAL.findall(text)) | set(CLINICAL.findall(text))
            codes |= {f"consultation.{verb}" for verb in CONSULT.findall(text)}
    # The status machine writes `appointment.<new status>`.
    codes |= {f"appointment.{status}" for status in Appointment.Status.values}
    return codes


def test_every_action_code_written_has_a_sentence():
    codes = codes_in_source()
    assert len(codes) > 60  # the scan found the codes, not nothing
    assert not codes - set(ACTION_SENTENCES)


def test_every_sentence_is_translated_to_chinese():
    with translation.override("zh-hans"):
        untranslated = [
            code
            for code, sentence in ACTION_SENTENCES.items()
            if not re.search(r"[\u4e00-\u9fff]", str(sentence))
        ]
    assert not untranslated


def test_sentences_are_filled_from_the_event():
    data = {"start": "2026-12-01", "end": "2026-12-14", "created": 12}
    with translation.override("en"):
        assert action_sentence("slots.generate", data) == (
            "Rota published for 2026-12-01 – 2026-12-14: 12 new slots, 0 free slots removed"
        )
        rule = {"weekday": 2, "start_time": "08:00", "end_time": "12:00"}
        assert action_sentence("schedule_rule.create", rule).endswith("Wednesday 08:00–12:00")
        assert actor_name("system") == "System"
    with translation.override("zh-hans"):
        assert "星期三" in action_sentence("schedule_rule.create", rule)
        assert actor_name("system") == "系统"


@pytest.mark.django_db
def test_the_doctors_console_history_reads_as_sentences(client):
    doctor = DoctorFactory()
    admin = with_totp(StaffMembershipFactory(hospital=doctor.hospital).user)
    today = timezone.localdate()
    schedule_rule_create(
        doctor=doctor,
        site=doctor.hospital,
        weekday=today.weekday(),
        start_time=dt.time(8),
        end_time=dt.time(9),
        slot_minutes=30,
        public_places=2,
        fee=Decimal("10"),
        valid_from=today,
        by=admin,
    )
    slots_generate(start=today, end=today + dt.timedelta(days=7), doctors=[doctor])
    client.force_login(admin)

    html = client.get(f"/manage/{doctor.hospital.slug}/doctors/{doctor.pk}/").content.decode()

    assert "schedule_rule" not in html and "slots.generate" not in html
    assert "Rota session added:" in html and "08:00–09:00" in html
    assert "Rota published for" in html and "System" in html
