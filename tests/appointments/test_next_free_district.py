"""Each NextFreePeriod row carries its doctor's hospital's district, so search "online in a
district" reads one index range of rows (appointments.selectors.search_sql.next_free_sql)
instead of probing every doctor of the district. The copy is written by the refresh, filled
in for old rows by the migration, and follows a hospital's new district and a doctor's move
to another hospital."""

from __future__ import annotations

import importlib
import types

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import NextFreePeriod
from appointments.selectors import SearchQuery, search_doctors
from appointments.services.next_free import (
    next_free_periods_compute,
    next_free_periods_district_follow,
)
from tests.appointments.conftest import open_slot
from tests.factories import DepartmentFactory, DoctorFactory, HospitalFactory

pytestmark = pytest.mark.django_db

backfill = importlib.import_module("appointments.migrations.0006_nextfreeperiod_district")


def districts_of(doctor) -> set[str]:
    return set(NextFreePeriod.objects.filter(doctor=doctor).values_list("district", flat=True))


def found_in(district: str, mode: str = "online") -> list[int]:
    return [
        result.doctor.pk
        for result in search_doctors(query=SearchQuery(mode=mode, district=district))
    ]


def doctor_in(district: str):
    return DoctorFactory(department=DepartmentFactory(hospital=HospitalFactory(district=district)))


@pytest.fixture
def online_doctor():
    """A doctor of a hospital in 海曙区 with a free online period."""
    doctor = doctor_in("海曙区")
    open_slot(doctor=doctor, mode="online")
    return doctor


def test_the_refresh_writes_the_district_of_the_doctors_hospital(online_doctor):
    assert districts_of(online_doctor) == {"海曙区"}
    rows = next_free_periods_compute(doctor_ids=[online_doctor.pk], now=timezone.now())
    assert {row.district for row in rows} == {"海曙区"}


def test_a_hospital_without_a_district_gives_its_rows_none():
    slot = open_slot(doctor=doctor_in(""))
    assert districts_of(slot.doctor) == {""}


def test_the_migration_fills_in_the_district_of_rows_written_before_it(online_doctor):
    other = open_slot(doctor=doctor_in("鄞州区"))
    NextFreePeriod.objects.update(district="")

    backfill.backfill_district(None, types.SimpleNamespace(connection=connection))

    assert districts_of(online_doctor) == {"海曙区"}
    assert districts_of(other.doctor) == {"鄞州区"}


def test_a_hospital_moving_to_another_district_moves_its_doctors_rows(online_doctor):
    assert found_in("海曙区") == [online_doctor.pk]
    hospital = online_doctor.hospital
    hospital.district = "鄞州区"
    hospital.save()

    assert districts_of(online_doctor) == {"鄞州区"}
    assert found_in("鄞州区") == [online_doctor.pk]
    assert found_in("海曙区") == []


def test_saving_other_fields_of_a_hospital_or_doctor_leaves_the_rows_alone(online_doctor):
    hospital = online_doctor.hospital
    hospital.phone = "0574-1234"
    online_doctor.room = "205"
    with CaptureQueriesContext(connection) as queries:
        hospital.save(update_fields=["phone"])
        online_doctor.save(update_fields=["room"])
    assert not [q for q in queries if "nextfreeperiod" in q["sql"] or "advisory" in q["sql"]]


def test_a_doctor_moving_to_a_hospital_of_another_district_moves_their_rows(online_doctor):
    elsewhere = doctor_in("鄞州区").department
    online_doctor.hospital, online_doctor.department = elsewhere.hospital, elsewhere
    online_doctor.save()

    assert districts_of(online_doctor) == {"鄞州区"}
    assert found_in("鄞州区") == [online_doctor.pk]
    assert found_in("海曙区") == []


def test_the_follow_changes_only_the_rows_whose_district_is_not_their_hospitals(online_doctor):
    other = open_slot(doctor=doctor_in("鄞州区"))
    NextFreePeriod.objects.filter(doctor=online_doctor).update(district="江北区")

    changed = next_free_periods_district_follow(
        hospital_ids=[online_doctor.hospital_id], doctor_ids=[other.doctor_id]
    )

    assert changed == NextFreePeriod.objects.filter(doctor=online_doctor).count()
    assert districts_of(online_doctor) == {"海曙区"}
    assert districts_of(other.doctor) == {"鄞州区"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's")
def test_the_follow_holds_the_refresh_lock_of_each_doctor_until_the_commit():
    """A refresh that starts meanwhile waits, so it reads the new district, not the old."""
    import psycopg

    from appointments.services import next_free

    doctor = doctor_in("海曙区")
    # Written directly: a refresh in this (test) transaction would hold the lock itself.
    NextFreePeriod.objects.create(
        doctor=doctor, mode="online", computed_at=timezone.now(), district="海曙区"
    )
    hospital = doctor.hospital
    hospital.district = "鄞州区"
    hospital.save()  # in the test's transaction, still open
    assert districts_of(doctor) == {"鄞州区"}

    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        autocommit=True,
    ) as other:
        [[free]] = other.execute(
            "SELECT pg_try_advisory_lock(%s::integer, %s::integer)",
            [next_free._LOCK_SPACE, doctor.pk],
        ).fetchall()
    assert free is False
