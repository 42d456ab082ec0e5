"""appointments 0002 (0009 until issue 14 regenerated the migrations): grants written before
one-grant-per-appointment are brought in line."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from appointments.models import Appointment
from records.access import record_access
from records.models import CareRelationship
from tests.appointments.conftest import later_slot, open_slot, person
from tests.records.conftest import doctor_account

pytestmark = pytest.mark.django_db

migration = importlib.import_module("appointments.migrations.0002_care_grant_per_appointment")


def test_a_shared_grant_of_a_cancelled_booking_ends_and_the_live_booking_gets_its_own():
    doctor, doctor_user = doctor_account()
    patient, family = person()
    first_slot = open_slot(doctor=doctor)
    second_slot = later_slot(first_slot, hours=2)
    kind = ContentType.objects.get_for_model(Appointment)

    def legacy(slot, status):
        return Appointment.objects.create(
            code=f"LEGACY{slot.pk}", patient=patient, slot=slot, booked_by=family, status=status
        )

    cancelled = legacy(first_slot, "cancelled")
    live = legacy(second_slot, "booked")
    # The old code's one grant: named for the first booking, extended for the second.
    shared = CareRelationship.objects.create(
        patient=patient,
        user=doctor_user,
        reason="booking",
        ends_at=second_slot.end + dt.timedelta(days=7),
        source_type=kind,
        source_id=str(cancelled.pk),
    )

    migration.forwards(apps, None)

    shared.refresh_from_db()
    assert shared.revoked_at is not None
    own = CareRelationship.objects.get(source_type=kind, source_id=str(live.pk))
    assert own.ends_at == second_slot.end + dt.timedelta(days=7)
    assert own.user == doctor_user and own.revoked_at is None
    assert record_access(user=doctor_user, patient=patient).allowed
    # Running it again changes nothing.
    migration.forwards(apps, None)
    assert CareRelationship.objects.filter(revoked_at__isnull=True).count() == 1
    assert timezone.now() < own.ends_at
