"""A real Celery worker against a private Redis, SIGKILLed in the middle of 1,000 due reminders
and started again: no reminder is missing, none is written twice, every one is delivered.

Starts its own redis-server on a free port (never the shared one) and its own worker processes
on the test database; skipped when redis-server is not installed (failed under CI=true).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from appointments.models import Appointment, Slot
from appointments.tasks import send_due_reminders
from notifications.models import Notification, OutboxMessage
from notifications.tasks import deliver_outbox
from tests.factories import DoctorFactory, PatientLinkFactory, SlotFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("integration")]

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
APPOINTMENTS = 1000
WAIT_SECONDS = 300  # a generous ceiling for a slow machine; the test ends when the work is done


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def private_redis():
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs redis-server for the worker tests")
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("the private redis-server did not start")
            time.sleep(0.1)
    # tests/settings.py gives a process without xdist Redis database 1: publish there too.
    yield f"redis://127.0.0.1:{port}/1"
    process.terminate()
    process.wait(timeout=20)


class Worker:
    def __init__(self, redis_url: str) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.integration.worker_settings",
            "WORKER_DB_NAME": str(connection.settings_dict["NAME"]),
            "REDIS_URL": redis_url,
            "PYTHONPATH": str(ROOT),
        }
        env.pop("PYTEST_XDIST_WORKER", None)
        self.process = subprocess.Popen(
            [
                CELERY,
                "-A",
                "portal",
                "worker",
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"it-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,  # its own process group: SIGKILL takes the pool child too
        )

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def publish(redis_url: str, task, times: int = 1, **kwargs) -> None:
    with task.app.connection_for_write(redis_url) as broker:
        for _index in range(times):
            task.apply_async(kwargs=kwargs, connection=broker)


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.5)


def due_appointments(n: int) -> None:
    """n booked appointments starting 3 to 4 hours from now: each owes its 24 h reminder."""
    account = UserFactory()
    patient = PatientLinkFactory(account=account).patient
    doctor = DoctorFactory()
    start = timezone.now() + dt.timedelta(hours=3)
    slots = Slot.objects.bulk_create(
        SlotFactory.build(doctor=doctor, start=start + dt.timedelta(seconds=3 * i))
        for i in range(n)
    )
    Appointment.objects.bulk_create(
        Appointment(code=f"IT{i:06d}", patient=patient, slot=slot, booked_by=account)
        for i, slot in enumerate(slots)
    )


def reminders():
    return OutboxMessage.objects.filter(kind="reminder.24h")


def test_a_worker_killed_mid_reminders_loses_and_doubles_nothing(private_redis):
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
