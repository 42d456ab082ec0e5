"""The lock order (appointments.services) on the consult's side: joining a room and cancelling
its appointment lock the appointment before the consultation. See
tests/appointments/test_lock_order.py for how `lock_step` makes an inverted order deadlock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection
from django.utils import timezone

from appointments.models import Appointment
from appointments.services import appointment_cancel
from telemedicine.models import Consultation
from telemedicine.services import ConsultClosed, consultation_join
from tests.concurrency import lock_step
from tests.factories import DoctorFactory, UserFactory
from tests.telemedicine.conftest import online_booking

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("races")]

ROUNDS = 50


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and deadlocks need PostgreSQL")


def test_a_patient_joining_while_the_hospital_cancels_never_deadlocks():
    doctor = DoctorFactory(user=UserFactory(), offers_online=True)
    start = timezone.now() + dt.timedelta(minutes=5)
    for index in range(ROUNDS):
        # One doctor's rooms, open now; a second apart, as one slot per (doctor, start, mode).
        at = start + dt.timedelta(seconds=index)
        appointment, account, _doctor = online_booking(
            doctor=doctor, start=at, end=at + dt.timedelta(minutes=30)
        )
        consultation = appointment.consultation

        results = lock_step(
            [
                lambda c=consultation, a=account: consultation_join(consultation=c, account=a),
                lambda a=appointment: appointment_cancel(appointment=a, by=None, reason="hospital"),
            ]
        )

        errors = [r for r in results if isinstance(r, DatabaseError)]
        assert not errors, errors
        joined, cancelled = results
        assert isinstance(joined, tuple | ConsultClosed), joined
        assert isinstance(cancelled, Appointment), cancelled
        consultation.refresh_from_db()
        assert consultation.status == Consultation.Status.ENDED
