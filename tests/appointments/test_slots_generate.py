"""Publishing the rota as slots: DST, holidays, release times, idempotency, booked slots kept."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine

from appointments.models import Slot
from appointments.selectors import slots_orphaned, slots_plan
from appointments.services import (
    schedule_rule_delete,
    schedule_rule_update,
    slots_generate,
    slots_insert,
)
from audit.models import AuditEvent
from hospitals.models import HolidayCalendar, HolidayDate
from tests.factories import DoctorFactory, HospitalFactory, ScheduleRuleFactory

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
LONDON = zoneinfo.ZoneInfo("Europe/London")
UTC = dt.UTC


@pytest.fixture
def early_2027():
    with time_machine.travel(dt.datetime(2027, 1, 1, tzinfo=UTC), tick=False):
        yield


def _local_starts(doctor, zone):
    return [s.start.astimezone(zone) for s in Slot.objects.filter(doctor=doctor).order_by("start")]


def test_a_monday_morning_session_becomes_eight_half_hour_slots_in_local_time(early_2027):
    rule = ScheduleRuleFactory()  # Mondays 08:00–12:00, 30 minutes, 3 places

    created = slots_generate(start=dt.date(2027, 1, 4), end=dt.date(2027, 1, 10))

    assert created == 8
    starts = _local_starts(rule.doctor, SHANGHAI)
    assert [s.strftime("%a %H:%M") for s in (starts[0], starts[-1])] == ["Mon 08:00", "Mon 11:30"]
    slot = Slot.objects.order_by("start").first()
    assert (slot.capacity, slot.booked, slot.department_id) == (3, 0, rule.doctor.department_id)
    assert slot.end - slot.start == dt.timedelta(minutes=30)


def test_running_it_again_creates_nothing(early_2027):
    ScheduleRuleFactory()
    ScheduleRuleFactory(weekday=2, referral_places=2)

    first = slots_generate(start=dt.date(2027, 1, 4), end=dt.date(2027, 1, 31))
    second = slots_generate(start=dt.date(2027, 1, 4), end=dt.date(2027, 1, 31))

    assert first == 64
    assert second == 0
    assert Slot.objects.count() == 64


def test_the_end_date_is_included_and_other_doctors_are_left_alone_when_some_are_named(
    early_2027,
):
    mine, other = ScheduleRuleFactory(), ScheduleRuleFactory()

    assert slots_generate(start=dt.date(2027, 1, 4), end=dt.date(2027, 1, 4), doctors=[mine.doctor])
    assert not Slot.objects.filter(doctor=other.doctor).exists()


def test_release_times_follow_the_sites_policy_in_its_local_time(early_2027):
    site = HospitalFactory(
        booking_horizon_days=14,
        release_time=dt.time(12, 0),
        referral_head_start_days=7,
        referral_merge_hours=24,
    )
    ScheduleRuleFactory(doctor=DoctorFactory(department__hospital=site), referral_places=1)

    slots_generate(start=dt.date(2027, 1, 18), end=dt.date(2027, 1, 18))

    slot = Slot.objects.order_by("start").first()
    assert slot.release_at == dt.datetime(2027, 1, 4, 12, 0, tzinfo=SHANGHAI)
    assert slot.referral_release_at == dt.datetime(2026, 12, 28, 12, 0, tzinfo=SHANGHAI)
    assert slot.referral_merge_at == dt.datetime(2027, 1, 17, 8, 0, tzinfo=SHANGHAI)


def test_in_a_dst_gap_the_missing_local_times_yield_no_slot(early_2027):
    site = HospitalFactory(timezone="Europe/London")
    doctor = DoctorFactory(department__hospital=site)
    # Sunday 28 March 2027: the clocks jump from 01:00 to 02:00.
    ScheduleRuleFactory(
        doctor=doctor, weekday=6, start_time=dt.time(0, 30), end_time=dt.time(2, 30)
    )

    slots_generate(start=dt.date(2027, 3, 28), end=dt.date(2027, 3, 28))

    local = [s.strftime("%H:%M %Z") for s in _local_starts(doctor, LONDON)]
    assert local == ["00:30 GMT", "02:00 BST"]


def test_in_a_dst_overlap_an_ambiguous_time_uses_its_first_occurrence_and_no_start_repeats(
    early_2027,
):
    site = HospitalFactory(timezone="Europe/London")
    doctor = DoctorFactory(department__hospital=site)
    # Sunday 31 October 2027: 01:00–02:00 happens twice (BST, then GMT).
    ScheduleRuleFactory(
        doctor=doctor, weekday=6, start_time=dt.time(0, 30), end_time=dt.time(2, 30)
    )

    slots_generate(start=dt.date(2027, 10, 31), end=dt.date(2027, 10, 31))

    starts = [s.start for s in Slot.objects.filter(doctor=doctor).order_by("start")]
    assert [s.astimezone(UTC).strftime("%H:%M") for s in starts] == [
        "23:30",  # 00:30 BST
        "00:00",  # 01:00 BST, the first of the two 01:00s
        "00:30",  # 01:30 BST
        "02:00",  # 02:00 GMT
    ]
    assert len(set(starts)) == len(starts)
    assert slots_generate(start=dt.date(2027, 10, 31), end=dt.date(2027, 10, 31)) == 0


def test_no_slots_on_a_public_holiday_and_a_make_up_day_runs_its_named_weekdays_rota(
    early_2027,
):
    calendar = HolidayCalendar.objects.create(name="China 2027")
    HolidayDate.objects.create(calendar=calendar, date=dt.date(2027, 2, 8), kind="holiday")
    # Saturday 20 February 2027 works as a Monday.
    HolidayDate.objects.create(
        calendar=calendar, date=dt.date(2027, 2, 20), kind="workday", follows_weekday=0
    )
    site = HospitalFactory(holiday_calendar=calendar)
    monday = ScheduleRuleFactory(doctor=DoctorFactory(department__hospital=site))

    slots_generate(start=dt.date(2027, 2, 8), end=dt.date(2027, 2, 21))

    days = sorted({s.date().isoformat() for s in _local_starts(monday.doctor, SHANGHAI)})
    assert days == ["2027-02-15", "2027-02-20"]


def test_a_holiday_declared_later_removes_unbooked_slots_and_reports_the_booked_one(
    early_2027,
):
    calendar = HolidayCalendar.objects.create(name="China 2027")
    site = HospitalFactory(holiday_calendar=calendar)
    rule = ScheduleRuleFactory(doctor=DoctorFactory(department__hospital=site))
    slots_generate(start=dt.date(2027, 2, 8), end=dt.date(2027, 2, 8))
    booked = Slot.objects.order_by("start").first()
    Slot.objects.filter(pk=booked.pk).update(booked=1)

    HolidayDate.objects.create(calendar=calendar, date=dt.date(2027, 2, 8), kind="holiday")
    slots_generate(start=dt.date(2027, 2, 8), end=dt.date(2027, 2, 8))

    assert list(Slot.objects.filter(doctor=rule.doctor)) == [booked]
    assert list(slots_orphaned(hospital=site)) == [booked]


def test_a_rota_change_never_touches_a_booked_slot_and_reports_it(early_2027, platform_admin):
    rule = ScheduleRuleFactory()
    slots_generate(start=dt.date(2027, 1, 4), end=dt.date(2027, 1, 4))
    booked = Slot.objects.order_by("start").first()
    Slot.objects.filter(pk=booked.pk).update(booked=2, referral_booked=0)
    booked.refresh_from_db()

    schedule_rule_update(rule=rule, by=platform_admin, start_time=dt.time(9, 0), public_places=4)
    plan = slots_plan(start=dt.date(2027, 1, 4), end=dt.date(2027, 1, 4))
    assert plan.to_orphan == [booked.pk]
    slots_generate(start=dt.date(2027, 1, 4), end=dt.date(2027, 1, 4), by=platform_admin)

    kept = Slot.objects.get(pk=booked.pk)
    assert (kept.start, kept.end, kept.capacity, kept.booked) == (
        booked.start,
        booked.end,
        3,
        2,
    )
    assert kept.orphaned_at is not None
    assert list(slots_orphaned(doctors=[rule.doctor])) == [kept]
    others = Slot.objects.exclude(pk=booked.pk)
    assert others.count() == 6 and {s.capacity for s in others} == {4}
    event = AuditEvent.objects.get(action="slots.generate", actor=platform_admin)
    assert event.target == rule.doctor
    assert event.data["orphaned_slot_ids"] == [booked.pk]


def test_a_deleted_rota_line_keeps_its_booked_slot_and_drops_the_rest(early_2027, platform_admin):
    rule = ScheduleRuleFactory()
    slots_generate(start=dt.date(2027, 1, 4), end=dt.date(2027, 1, 4))
    booked = Slot.objects.order_by("start").last()
    Slot.objects.filter(pk=booked.pk).update(referral_capacity=1, referral_booked=1)

    schedule_rule_delete(rule=rule, by=platform_admin)
    slots_generate(start=dt.date(2027, 1, 4), end=dt.date(2027, 1, 4), by=platform_admin)

    assert list(Slot.objects.values_list("pk", flat=True)) == [booked.pk]
    assert list(slots_orphaned()) == [Slot.objects.get()]
    event = AuditEvent.objects.get(action="slots.generate", actor=platform_admin)
    assert event.target == rule.doctor
    assert event.data["removed_unbooked"] == 7
    assert event.data["orphaned_slot_ids"] == [booked.pk]


def test_a_changed_mode_never_puts_two_slots_of_a_doctor_at_one_instant(early_2027, platform_admin):
    rule = ScheduleRuleFactory(doctor=DoctorFactory(offers_online=True))
    slots_generate(start=dt.date(2027, 1, 4), end=dt.date(2027, 1, 4))
    booked = Slot.objects.order_by("start").first()
    Slot.objects.filter(pk=booked.pk).update(booked=1)

    schedule_rule_update(rule=rule, by=platform_admin, mode="online")
    slots_generate(start=dt.date(2027, 1, 4), end=dt.date(2027, 1, 4))

    starts = list(Slot.objects.values_list("start", flat=True))
    assert len(starts) == len(set(starts)) == 8
    assert Slot.objects.filter(mode="online").count() == 7


def test_slots_that_have_started_are_neither_created_nor_removed():
    rule = ScheduleRuleFactory()
    with time_machine.travel(dt.datetime(2027, 1, 4, 9, 59, tzinfo=SHANGHAI), tick=False):
        assert slots_generate(start=dt.date(2027, 1, 4), end=dt.date(2027, 1, 4)) == 4
    with time_machine.travel(dt.datetime(2027, 1, 4, 11, 0, tzinfo=SHANGHAI), tick=False):
        schedule_rule_delete(rule=rule, by=None)
        slots_generate(start=dt.date(2027, 1, 4), end=dt.date(2027, 1, 4))
    assert [
        s.astimezone(SHANGHAI).strftime("%H:%M")
        for s in Slot.objects.values_list("start", flat=True).order_by("start")
    ] == ["10:00", "10:30", "11:00"]


def test_an_inactive_doctor_gets_no_new_slots(early_2027):
    ScheduleRuleFactory(doctor=DoctorFactory(is_active=False))

    assert slots_generate(start=dt.date(2027, 1, 4), end=dt.date(2027, 1, 10)) == 0


def test_slots_a_concurrent_run_inserted_first_are_skipped_not_an_error(early_2027):
    ScheduleRuleFactory()
    plan = slots_plan(start=dt.date(2027, 1, 4), end=dt.date(2027, 1, 4))
    slots_generate(start=dt.date(2027, 1, 4), end=dt.date(2027, 1, 4))  # the other run

    slots_insert(plan.to_create)

    assert Slot.objects.count() == 8
