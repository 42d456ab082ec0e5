"""When a slot may be booked: released, not started, not closed, a place of its pool left."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from appointments.selectors import next_free_periods, slots_bookable
from tests.factories import DoctorFactory, SlotFactory

pytestmark = pytest.mark.django_db


def test_a_slot_opens_at_its_release_time_and_closes_when_it_starts():
    slot = SlotFactory.build(booked=0)

    assert not slot.is_bookable(now=slot.release_at - dt.timedelta(seconds=1))
    assert slot.is_bookable(now=slot.release_at)
    assert not slot.is_bookable(now=slot.start)


def test_a_full_or_closed_slot_is_not_bookable():
    now = timezone.now()
    assert not SlotFactory.build(booked=3).is_bookable(now=now)
    assert not SlotFactory.build(closed_at=now).is_bookable(now=now)


def test_referral_places_open_earlier_and_only_to_referrals():
    slot = SlotFactory.build(booked=3, referral_capacity=2)
    early = slot.referral_release_at + dt.timedelta(hours=1)

    assert slot.is_bookable(now=early, referral=True)
    assert not slot.is_bookable(now=early)
    assert not slot.is_bookable(now=slot.referral_release_at - dt.timedelta(hours=1), referral=True)


def test_unused_referral_places_join_the_public_pool_at_the_merge_time():
    slot = SlotFactory.build(booked=3, referral_capacity=2, referral_booked=1)

    assert not slot.is_bookable(now=slot.referral_merge_at - dt.timedelta(minutes=1))
    assert slot.is_bookable(now=slot.referral_merge_at)
    assert slot.public_places_left(now=slot.referral_merge_at) == 1


def test_the_bookable_query_agrees_with_the_model_method():
    now = timezone.now()
    open_slot = SlotFactory(release_at=now - dt.timedelta(days=1))
    SlotFactory(booked=3, release_at=now - dt.timedelta(days=1))
    SlotFactory(release_at=now + dt.timedelta(days=1))
    SlotFactory(closed_at=now, release_at=now - dt.timedelta(days=1))
    merged = SlotFactory(
        booked=3,
        referral_capacity=1,
        release_at=now - dt.timedelta(days=2),
        start=now + dt.timedelta(hours=2),
        end=now + dt.timedelta(hours=3),
        referral_merge_at=now - dt.timedelta(hours=1),
    )

    assert set(slots_bookable(now=now)) == {open_slot, merged}


def test_next_free_periods_gives_each_doctors_earliest_bookable_slot_in_one_query(
    django_assert_num_queries,
):
    now = timezone.now()
    first, second, idle = DoctorFactory(), DoctorFactory(), DoctorFactory()
    soon = now.replace(microsecond=0) + dt.timedelta(days=1)
    for doctor in (first, second):
        SlotFactory(doctor=doctor, start=soon + dt.timedelta(hours=2), release_at=now)
        SlotFactory(doctor=doctor, start=soon + dt.timedelta(hours=1), release_at=now, booked=3)
    earliest = SlotFactory(doctor=first, start=soon, release_at=now)

    with django_assert_num_queries(1):
        periods = next_free_periods(doctors=[first, second, idle])
        assert periods[first.pk] == earliest
        assert periods[second.pk].start == soon + dt.timedelta(hours=2)
        assert periods[first.pk].site.pk == first.hospital_id
    assert idle.pk not in periods
