"""Races on PostgreSQL: a visit opens one encounter however many desks check it in at once."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection

from appointments.models import Appointment
from appointments.services import appointment_check_in
from records.models import CareRelationship, Encounter
from tests.concurrency import race
from tests.conftest import CLINIC_MOMENT
from tests.factories import UserFactory
from tests.records.conftest import booked_visit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("races")]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("select_for_update races need PostgreSQL")
    with time_machine.travel(CLINIC_MOMENT, tick=False):
        yield


def test_five_desks_checking_in_at_once_open_exactly_one_encounter():
    appointment, _, doctor = booked_visit()
    desks = [UserFactory() for _ in range(5)]
    results = race(
        [lambda desk=desk: appointment_check_in(appointment=appointment, by=desk) for desk in desks]
    )
    assert sum(isinstance(r, Appointment) for r in results) == 1
    assert Encounter.objects.count() == 1
    encounter = Appointment.objects.get(pk=appointment.pk).encounter
    assert encounter is not None and encounter.is_open
    assert CareRelationship.objects.filter(user=doctor, reason="encounter").count() == 1
