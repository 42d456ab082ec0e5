"""A real Celery worker against a private Redis, SIGKILLed in the middle of 1,000 due reminders
and started again: no reminder is missing, none is written twice, every one is delivered.

Starts its own redis-server on a free port (never the shared one) and its own worker processes
on the test database; skipped when redis-server is not installed (failed under CI=true).
"""

from __future__ import annotations

import pytest

from appointments.models import Appointment
from appointments.tasks import send_due_reminders
from notifications.models import Notification
from notifications.tasks import deliver_outbox
from tests.integration.workers import (
    Worker,
    deliver_until_sent,
    due_appointments,
    publish,
    reminders,
    wait_until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("integration")]

APPOINTMENTS = 1000


def test_a_worker_killed_mid_reminders_loses_and_doubles_nothing(redis_server):
    private_redis = redis_server.url
    due_appointments(APPOINTMENTS)
    worker = Worker(private_redis)
    try:
        publish(private_redis, send_due_reminders, batch=25)
        wait_until(lambda: reminders().count() >= 200, "the first reminders")
        worker.kill()
        written = reminders().count()
        assert written < 3 * APPOINTMENTS  # the kill landed in the middle of the work

        worker = Worker(private_redis)
        # What the beat would do next: ask for the reminders and the deliveries again.
        publish(private_redis, send_due_reminders, batch=25)
        wait_until(
            lambda: not Appointment.objects.filter(reminded_hours=None).exists(),
            "every appointment to be reminded",
        )
        deliver_until_sent(private_redis, deliver_outbox)
    finally:
        worker.stop()

    rows = reminders()
    # An e-mail, an SMS (the number is verified) and an inbox entry each: 0 missing, 0 twice.
    assert rows.count() == 3 * APPOINTMENTS
    assert rows.values("subject_id", "channel").distinct().count() == 3 * APPOINTMENTS
    assert rows.filter(channel="sms").values("subject_id").distinct().count() == APPOINTMENTS
    assert rows.values("message_id").distinct().count() == 3 * APPOINTMENTS
    assert set(rows.values_list("state", flat=True)) == {"sent"}
    assert Notification.objects.count() == APPOINTMENTS  # each inbox entry delivered once
