"""Real Celery workers for the integration tests: a private Redis that can be restarted on its
own port, worker processes (bare or under `manage.py supervise_worker`) on the test database,
and the 1,000 due reminders they work through. Nothing here touches a shared Redis."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.utils import timezone

from appointments.models import Appointment, Slot
from notifications.models import OutboxMessage
from tests.conftest import IN_CI
from tests.factories import DoctorFactory, PatientLinkFactory, SlotFactory, UserFactory
from tests.integration.servers import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
WAIT_SECONDS = 300  # a generous ceiling for a slow machine; a test ends when the work is done


class RedisServer:
    """A private redis-server on a port of its own, which can be stopped and started again on
    the same port. Persistence as docs/operations.md asks of the broker (appendonly, in
    `folder`), so a restart keeps what was queued."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            if IN_CI:
                pytest.fail("CI needs redis-server for the worker tests")
            pytest.skip("redis-server is not installed")
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        # tests/settings.py gives a process without xdist Redis database 1: publish there too.
        self.url = f"redis://127.0.0.1:{self.port}/1"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


def worker_env(redis_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.integration.worker_settings",
        "WORKER_DB_NAME": str(connection.settings_dict["NAME"]),
        "REDIS_URL": redis_url,
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    return env


def worker_command(name: str) -> list[str]:
    return [
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
        f"{name}-{os.getpid()}@%h",
    ]


class Worker:
    """A bare worker in a process group of its own: SIGKILL takes the pool child too."""

    def __init__(self, redis_url: str) -> None:
        self.process = subprocess.Popen(
            worker_command("it"), cwd=ROOT, env=worker_env(redis_url), start_new_session=True
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


class SupervisedWorker:
    """`manage.py supervise_worker` running a worker, as `make run` does (Procfile)."""

    def __init__(self, redis_url: str, heartbeat: Path, *, stale: float, grace: float) -> None:
        self.heartbeat = heartbeat
        env = worker_env(redis_url)
        env["WORKER_LIVENESS_INTERVAL"] = "1"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "supervise_worker",
                "--heartbeat",
                str(heartbeat),
                "--stale",
                str(stale),
                "--grace",
                str(grace),
                "--check-every",
                "1",
                "--",
                *worker_command("supervised"),
            ],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def stop(self) -> str:
        """Stop the supervisor (and so its worker); its log."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.stderr.read()


def publish(redis_url: str, task, times: int = 1, **kwargs) -> None:
    with task.app.connection_for_write(redis_url) as broker:
        for _index in range(times):
            task.apply_async(kwargs=kwargs, connection=broker)


def deliver_until_sent(redis_url: str, task, *, batch: int = 200) -> None:
    """Ask for deliveries (what the beat does every 30 s) until no outbox row is left unsent:
    one task at a time, published whenever the queue is empty, so the number of drains follows
    the rows, not a guess. Bounded by the deadline of `wait_until`."""
    broker = redis.Redis.from_url(redis_url)
    queue = task.app.conf.task_default_queue
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        while OutboxMessage.objects.exclude(state="sent").exists():
            if time.monotonic() > deadline:
                pytest.fail("gave up waiting for every message to be delivered")
            if not broker.llen(queue):
                publish(redis_url, task, batch=batch)
            time.sleep(0.5)
    finally:
        broker.close()


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.5)


def due_appointments(n: int) -> None:
    """n booked appointments starting 3 to 4 hours from now, booked two days ago: each owes its
    24 h reminder (one booked inside that window would owe none). Their account has a verified
    e-mail and number: each reminder is an e-mail, an SMS and an inbox row."""
    account = UserFactory(phone_verified=True, email_verified=True)
    patient = PatientLinkFactory(account=account).patient
    doctor = DoctorFactory()
    start = timezone.now() + dt.timedelta(hours=3)
    slots = Slot.objects.bulk_create(
        SlotFactory.build(doctor=doctor, start=start + dt.timedelta(seconds=3 * i))
        for i in range(n)
    )
    Appointment.objects.bulk_create(
        Appointment(
            code=f"IT{i:06d}",
            patient=patient,
            slot=slot,
            booked_by=account,
            created_at=timezone.now() - dt.timedelta(days=2),
        )
        for i, slot in enumerate(slots)
    )


def reminders():
    return OutboxMessage.objects.filter(kind="reminder.24h")
