"""seed_demo's rotas: believable sessions for whatever doctors exist, and idempotent."""

from __future__ import annotations

import pytest

from appointments.demo import seed_rotas_and_slots
from appointments.models import ScheduleRule, Slot
from tests.factories import DoctorFactory, HospitalFactory, ScheduleRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    cloud = HospitalFactory(kind="cloud")
    hospital = HospitalFactory(kind="hospital")
    clinic = HospitalFactory(kind="clinic")
    return {
        "cloud_doctor": DoctorFactory(department__hospital=cloud, offers_online=True),
        "chief": DoctorFactory(department__hospital=hospital, title="chief", offers_online=True),
        "attending": DoctorFactory(department__hospital=hospital, title="attending"),
        "clinic_doctor": DoctorFactory(department__hospital=clinic, title="resident"),
        "clinic_doctor_2": DoctorFactory(department__hospital=clinic, title="attending"),
        "retired": DoctorFactory(department__hospital=hospital, is_active=False),
        "cloud": cloud,
    }


def test_every_active_doctor_gets_sessions_and_two_weeks_of_slots(city):
    result = seed_rotas_and_slots()

    assert result["doctors"] == 5
    assert result["slots_created"] > 0
    for name in ("cloud_doctor", "chief", "attending", "clinic_doctor", "clinic_doctor_2"):
        assert ScheduleRule.objects.filter(doctor=city[name]).exists(), name
        assert Slot.objects.filter(doctor=city[name]).exists(), name
    assert not ScheduleRule.objects.filter(doctor=city["retired"]).exists()


def test_mornings_afternoons_evenings_online_and_referral_places_all_appear(city):
    seed_rotas_and_slots()
    rules = ScheduleRule.objects.all()

    starts = {rule.start_time.hour for rule in rules}
    assert {8, 13, 18} <= starts
    online = rules.filter(mode="online")
    assert online.filter(site=city["cloud"], doctor=city["chief"]).exists()
    assert set(online.values_list("site", flat=True)) == {city["cloud"].pk}
    assert all(
        rule.referral_places == 1 for rule in rules.filter(doctor=city["chief"], mode="in_person")
    )
    assert not rules.filter(doctor=city["attending"], referral_places__gt=0).exists()


def test_running_it_twice_changes_nothing_and_an_existing_rota_is_kept(city):
    kept = ScheduleRuleFactory(doctor=city["attending"], weekday=6)
    seed_rotas_and_slots()
    counts = (ScheduleRule.objects.count(), Slot.objects.count())

    again = seed_rotas_and_slots()

    assert again["rules_created"] == again["slots_created"] == 0
    assert (ScheduleRule.objects.count(), Slot.objects.count()) == counts
    assert list(ScheduleRule.objects.filter(doctor=city["attending"])) == [kept]
