"""Keeping a doctor's weekly rota: lines that cannot work or overlap are refused, clearly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from appointments.models import ScheduleRule
from appointments.services import (
    schedule_rule_create,
    schedule_rule_delete,
    schedule_rule_update,
)
from audit.models import AuditEvent
from tests.factories import DoctorFactory, HospitalFactory, ScheduleRuleFactory

pytestmark = pytest.mark.django_db


def _create(doctor, by, **overrides):
    fields = {
        "doctor": doctor,
        "site": doctor.hospital,
        "weekday": 0,
        "start_time": dt.time(8, 0),
        "end_time": dt.time(12, 0),
        "slot_minutes": 30,
        "public_places": 3,
        "fee": Decimal("25"),
        "valid_from": dt.date(2026, 1, 1),
        "by": by,
    }
    fields.update(overrides)
    return schedule_rule_create(**fields)


def test_a_rota_line_is_saved_and_audited_on_the_doctor(platform_admin):
    doctor = DoctorFactory()

    rule = _create(doctor, platform_admin)

    event = AuditEvent.objects.get(action="schedule_rule.create")
    assert event.target == doctor
    assert event.data["rule_id"] == rule.pk
    assert event.actor == platform_admin


def test_an_overlapping_session_on_the_same_weekday_is_refused_with_the_other_sessions_times(
    platform_admin,
):
    doctor = DoctorFactory()
    _create(doctor, platform_admin)

    with pytest.raises(ValidationError) as refused:
        _create(doctor, platform_admin, start_time=dt.time(11, 30), end_time=dt.time(13, 30))

    assert "overlaps the doctor's Monday session 08:00–12:00" in str(refused.value)
    assert ScheduleRule.objects.count() == 1


def test_the_overlap_message_is_translated_into_chinese(platform_admin):
    doctor = DoctorFactory()
    _create(doctor, platform_admin)

    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        _create(doctor, platform_admin, start_time=dt.time(9, 0), end_time=dt.time(10, 0))

    assert "08:00–12:00" in str(refused.value)
    assert "星期一" in str(refused.value)


def test_sessions_that_only_touch_or_fall_on_other_days_or_periods_are_accepted(platform_admin):
    doctor = DoctorFactory()
    _create(doctor, platform_admin, valid_until=dt.date(2026, 6, 30))

    _create(doctor, platform_admin, start_time=dt.time(12, 0), end_time=dt.time(13, 0))
    _create(doctor, platform_admin, weekday=1)
    _create(doctor, platform_admin, valid_from=dt.date(2026, 7, 1))
    _create(DoctorFactory(hospital=doctor.hospital, department=doctor.department), platform_admin)

    assert ScheduleRule.objects.count() == 5


def test_an_open_ended_line_overlaps_a_later_one(platform_admin):
    doctor = DoctorFactory()
    _create(doctor, platform_admin)

    with pytest.raises(ValidationError, match="overlaps"):
        _create(doctor, platform_admin, valid_from=dt.date(2030, 1, 1))


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"end_time": dt.time(8, 0)}, "end_time", "must end after it starts"),
        ({"slot_minutes": 25}, "slot_minutes", "not a whole number of 25-minute slots"),
        ({"public_places": 0}, "public_places", "at least one public or referral place"),
        ({"valid_until": dt.date(2025, 1, 1)}, "valid_until", "on or after the day it starts"),
        ({"fee": Decimal("-1")}, "fee", "cannot be negative"),
        ({"mode": "online"}, "mode", "does not offer online consults"),
    ],
)
def test_a_session_that_cannot_work_is_refused_with_a_message_on_its_field(
    platform_admin, overrides, field, message
):
    doctor = DoctorFactory()

    with pytest.raises(ValidationError) as refused:
        _create(doctor, platform_admin, **overrides)

    assert message in " ".join(refused.value.message_dict[field])
    assert not ScheduleRule.objects.exists()


def test_sessions_elsewhere_are_only_online_at_the_cloud_hospital(platform_admin):
    doctor = DoctorFactory(offers_online=True)
    cloud = HospitalFactory(kind="cloud")

    with pytest.raises(ValidationError) as refused:
        _create(doctor, platform_admin, site=HospitalFactory())
    assert "cloud hospital" in " ".join(refused.value.message_dict["site"])
    with pytest.raises(ValidationError):
        _create(doctor, platform_admin, site=cloud, mode="in_person")

    assert _create(doctor, platform_admin, site=cloud, mode="online").site == cloud


def test_an_update_that_would_overlap_is_refused_and_nothing_changes(platform_admin):
    doctor = DoctorFactory()
    _create(doctor, platform_admin)
    afternoon = _create(doctor, platform_admin, start_time=dt.time(14, 0), end_time=dt.time(17, 0))

    with pytest.raises(ValidationError, match="overlaps"):
        schedule_rule_update(rule=afternoon, by=platform_admin, start_time=dt.time(11, 0))

    afternoon.refresh_from_db()
    assert afternoon.start_time == dt.time(14, 0)
    assert not AuditEvent.objects.filter(action="schedule_rule.update").exists()


def test_an_update_records_what_changed_and_a_delete_keeps_the_rules_facts(platform_admin):
    rule = ScheduleRuleFactory()

    schedule_rule_update(rule=rule, by=platform_admin, public_places=5)
    schedule_rule_delete(rule=rule, by=platform_admin)

    update = AuditEvent.objects.get(action="schedule_rule.update")
    assert update.data == {"rule_id": rule.pk, "changes": {"public_places": [3, 5]}}
    assert update.target == rule.doctor
    delete = AuditEvent.objects.get(action="schedule_rule.delete")
    assert delete.data["rule_id"] == rule.pk
    assert not ScheduleRule.objects.exists()
