"""The worker as `make run` runs it, under `manage.py supervise_worker`, against a private Redis.

1. The Redis is restarted (same port) in the middle of 1,000 due reminders: no reminder is
   missing, none is written twice, every one is delivered.
2. A worker that stops consuming (SIGSTOP: it neither works nor writes its heartbeat) is caught
   by the liveness check and replaced by a new one, which then does the work.
"""

from __future__ import annotations

import os
import signal

import pytest

from appointments.models import Appointment
from appointments.tasks import send_due_reminders
from notifications.models import Notification
from notifications.tasks import deliver_outbox
from portal.liveness import heartbeat
from tests.integration.workers import (
    SupervisedWorker,
    deliver_until_sent,
    due_appointments,
    publish,
    reminders,
    wait_until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("integration")]

APPOINTMENTS = 1000


def worker_pid(path) -> int | None:
    beat = heartbeat(path)
    return beat[0] if beat else None


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_redis_restart_mid_reminders_loses_and_doubles_nothing(redis_server, tmp_path):
    due_appointments(APPOINTMENTS)
    supervised = SupervisedWorker(redis_server.url, tmp_path / "alive", stale=30, grace=120)
    try:
        publish(redis_server.url, send_due_reminders, batch=25)
        wait_until(lambda: reminders().count() >= 200, "the first reminders")
        redis_server.stop()
        assert reminders().count() < 3 * APPOINTMENTS  # Redis went away in the middle
        redis_server.start()

        # What the beat would do next: ask for the reminders and the deliveries again.
        publish(redis_server.url, send_due_reminders, batch=25)
        wait_until(
            lambda: not Appointment.objects.filter(reminded_hours=None).exists(),
            "every appointment to be reminded",
        )
        deliver_until_sent(redis_server.url, deliver_outbox)
    finally:
        log = supervised.stop()

    rows = reminders()
    # An e-mail, an SMS (the number is verified) and an inbox entry each: 0 missing, 0 twice.
    assert rows.count() == 3 * APPOINTMENTS
    assert rows.values("subject_id", "channel").distinct().count() == 3 * APPOINTMENTS
    assert rows.filter(channel="sms").values("subject_id").distinct().count() == APPOINTMENTS
    assert rows.values("message_id").distinct().count() == 3 * APPOINTMENTS
    assert set(rows.values_list("state", flat=True)) == {"sent"}
    assert Notification.objects.count() == APPOINTMENTS  # each inbox entry delivered once
    assert "started worker" in log  # under the supervisor, as `make run` runs it


def test_a_worker_that_stops_consuming_is_restarted_by_its_supervisor(redis_server, tmp_path):
    alive = tmp_path / "alive"
    supervised = SupervisedWorker(redis_server.url, alive, stale=8, grace=120)
    try:
        wait_until(lambda: worker_pid(alive) is not None, "the worker's first heartbeat")
        stuck = worker_pid(alive)
        os.kill(stuck, signal.SIGSTOP)  # alive, holding its connection, consuming nothing

        wait_until(
            lambda: worker_pid(alive) not in (None, stuck),
            "the supervisor to start another worker",
        )
        assert gone(stuck)
        # The new worker consumes: due reminders published now are written.
        due_appointments(5)
        publish(redis_server.url, send_due_reminders, batch=25)
        wait_until(lambda: reminders().count() == 15, "the new worker to do the work")  # 3 each
    finally:
        log = supervised.stop()
    assert f"worker {stuck} stopped consuming" in log
