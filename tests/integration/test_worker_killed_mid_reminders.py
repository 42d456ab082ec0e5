"""A real Celery worker against a private Redis, SIGKILLed in the middle of 1,000 due reminders
and started again: no reminder is missing, none is written twice, every one is delivered.

Starts its own redis-server on a free port (never the shared one) and its own worker processes
on the test database; skipped when redis-server is not installed (failed under CI=true).
"""

from __future__ import annotations

import pytest

from appointments.models import Appointment
from appointments.tasks import send_due_reminders
from notifications.models import Notification, OutboxMessage
from notifications.tasks import deliver_outbox
from tests.integration.workers import (
    Worker,
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
        assert written < 2 * APPOINTMENTS  # the kill landed in the middle of the work

        worker = Worker(private_redis)
        # What the beat would do next: ask for the reminders and the deliveries again.
        publish(private_redis, send_due_reminders, batch=25)
        wait_until(
            lambda: not Appointment.objects.filter(reminded_hours=None).exists(),
            "every appointment to be reminded",
        )
        publish(private_redis, deliver_outbox, times=12, batch=200)
        wait_until(
            lambda: not OutboxMessage.objects.exclude(state="sent").exists(),
            "every message to be delivered",
        )
    finally:
        worker.stop()

    rows = reminders()
    assert rows.count() == 2 * APPOINTMENTS  # an e-mail and an inbox entry each: 0 missing
    assert rows.values("subject_id", "channel").distinct().count() == 2 * APPOINTMENTS  # 0 twice
    assert rows.values("message_id").distinct().count() == 2 * APPOINTMENTS
    assert set(rows.values_list("state", flat=True)) == {"sent"}
    assert Notification.objects.count() == APPOINTMENTS  # each inbox entry delivered once
