"""care_relationship_grant: who on the staff may read a record, why, and until when."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEvent
from records.models import CareRelationship
from records.selectors import care_relationship_live
from records.services import care_relationship_grant, care_relationship_revoke
from tests.factories import PatientFactory, StaffFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def doctor(db):
    return StaffFactory(email="dr.li@example.com", is_superuser=False)


@pytest.fixture
def patient(db):
    return PatientFactory()


@time_machine.travel(NOW, tick=False)
def test_a_booking_grants_reading_until_the_given_time(doctor, patient):
    grant = care_relationship_grant(
        patient=patient,
        user=doctor,
        reason="booking",
        until=NOW + dt.timedelta(days=8),
        source="appointment A1B2",
    )

    assert care_relationship_live(patient=patient, user=doctor) == grant
    assert grant.source_label == "appointment A1B2"
    assert AuditEvent.objects.filter(action="care_relationship.grant").exists()
    assert (
        care_relationship_live(patient=patient, user=doctor, at=NOW + dt.timedelta(days=8)) is None
    )


@time_machine.travel(NOW, tick=False)
def test_a_second_booking_extends_the_live_grant_instead_of_adding_one(doctor, patient):
    first = care_relationship_grant(
        patient=patient, user=doctor, reason="booking", until=NOW + dt.timedelta(days=8)
    )
    later = care_relationship_grant(
        patient=patient, user=doctor, reason="booking", until=NOW + dt.timedelta(days=20)
    )
    earlier = care_relationship_grant(
        patient=patient, user=doctor, reason="booking", until=NOW + dt.timedelta(days=2)
    )

    assert first.pk == later.pk == earlier.pk
    assert CareRelationship.objects.count() == 1
    assert CareRelationship.objects.get().ends_at == NOW + dt.timedelta(days=20)  # never shortened
    assert AuditEvent.objects.filter(action="care_relationship.extend").count() == 2


def test_an_expired_grant_is_not_revived_but_replaced(doctor, patient):
    with time_machine.travel(NOW, tick=False):
        old = care_relationship_grant(
            patient=patient, user=doctor, reason="booking", until=NOW + dt.timedelta(days=1)
        )
    with time_machine.travel(NOW + dt.timedelta(days=3), tick=False):
        new = care_relationship_grant(
            patient=patient, user=doctor, reason="booking", until=NOW + dt.timedelta(days=9)
        )

    assert new.pk != old.pk
    old.refresh_from_db()
    assert old.ends_at == NOW + dt.timedelta(days=1)


@time_machine.travel(NOW, tick=False)
def test_other_reasons_and_other_doctors_get_their_own_grants(doctor, patient):
    other = StaffFactory(is_superuser=False)
    care_relationship_grant(
        patient=patient, user=doctor, reason="booking", until=NOW + dt.timedelta(days=1)
    )
    care_relationship_grant(
        patient=patient, user=doctor, reason="referral", until=NOW + dt.timedelta(days=1)
    )
    care_relationship_grant(
        patient=patient, user=other, reason="booking", until=NOW + dt.timedelta(days=1)
    )

    assert CareRelationship.objects.count() == 3


@time_machine.travel(NOW, tick=False)
def test_a_grant_can_name_its_source_object(doctor, patient):
    grant = care_relationship_grant(
        patient=patient,
        user=doctor,
        reason="encounter",
        until=NOW + dt.timedelta(hours=4),
        source=patient,
    )

    assert grant.source == patient


@time_machine.travel(NOW, tick=False)
def test_a_revoked_grant_no_longer_lets_the_doctor_read(doctor, patient):
    grant = care_relationship_grant(
        patient=patient, user=doctor, reason="break_glass", until=NOW + dt.timedelta(hours=1)
    )

    care_relationship_revoke(grant=grant, by=doctor)

    assert care_relationship_live(patient=patient, user=doctor) is None
    assert AuditEvent.objects.filter(action="care_relationship.revoke").exists()


def test_a_grant_that_ends_in_the_past_is_a_programming_error(doctor, patient):
    with pytest.raises(ValueError):
        care_relationship_grant(
            patient=patient, user=doctor, reason="booking", until=timezone.now()
        )
