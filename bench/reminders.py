"""How fast one worker drains due reminders through the outbox, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_jobs \
        .venv/bin/python bench/reminders.py [--appointments 100000] [--batch 500]

Everything happens in a scratch database (Django's test database, `test_<name>`), created and
migrated at the start and dropped at the end. N booked appointments all become due for their
24 h reminder at once; one process then does what one worker does: `reminders_send_due` (claim
batches with SKIP LOCKED, write an e-mail and an inbox row each) and `outbox_drain` (deliver
them; e-mail to Django's locmem backend, i.e. a counter). Measured: drain time, reminders per
second, p99 lateness (sent − due, where "due" is the moment they all became due), duplicates.

Baseline, in the same run: a bare loop publishing N no-op task messages to a private Redis
(started on a free port and stopped at the end; skipped when redis-server is missing).

Prints JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import socket
import statistics
import subprocess
import time

from benchenv import prepare_environment

prepare_environment()

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core import mail  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402


def build(n: int) -> None:
    from accounts.models import User
    from appointments.models import Appointment, Slot
    from hospitals.models import Department, Doctor, Hospital
    from records.idnumbers import make_id_number
    from records.models import Patient, PatientLink

    now = django.utils.timezone.now()
    hospital = Hospital.objects.create(slug="bench", name="基准医院", kind="hospital")
    department = Department.objects.create(hospital=hospital, name="皮肤科", slug="derm")
    doctor = Doctor.objects.create(
        hospital=hospital, department=department, name="医生", title="attending"
    )
    account = User.objects.create_user(email="bench@example.com")
    patient = Patient(name="王小明", birth_date=dt.date(1990, 1, 1), sex="male")
    patient.set_id_number(make_id_number(birth_date=patient.birth_date, sex="male", sequence=1))
    patient.save()
    PatientLink.objects.create(patient=patient, account=account, relationship="self")
    start = now + dt.timedelta(hours=3)
    for first in range(0, n, 5000):
        slots = Slot.objects.bulk_create(
            Slot(
                doctor=doctor,
                site=hospital,
                department=department,
                # All within the hour after `start`: every one is due for its 24 h reminder
                # from the first moment. One second apart, 100,000 spanned 27.8 hours, and the
                # ones starting more than 24 h ahead only fell due one per second mid-run.
                start=start + dt.timedelta(seconds=3600 * i / n),
                end=start + dt.timedelta(seconds=3600 * i / n, minutes=30),
                mode="in_person",
                capacity=1,
                booked=1,
                fee="25.00",
                release_at=now - dt.timedelta(days=7),
                referral_release_at=now - dt.timedelta(days=14),
                referral_merge_at=now,
            )
            for i in range(first, min(first + 5000, n))
        )
        Appointment.objects.bulk_create(
            Appointment(code=f"B{slot.pk:09d}", patient=patient, slot=slot, booked_by=account)
            for slot in slots
        )


def drain(batch: int) -> dict:
    from appointments.models import Appointment
    from appointments.services import reminders_send_due
    from notifications.models import OutboxMessage
    from notifications.services import outbox_drain

    due = django.utils.timezone.now()
    began = time.perf_counter()
    written = reminders_send_due(batch=batch)
    wrote_in = time.perf_counter() - began
    delivered = outbox_drain(batch=batch, limit=10**9)
    seconds = time.perf_counter() - began
    rows = OutboxMessage.objects.filter(kind="reminder.24h")
    lateness = sorted(
        (sent - due).total_seconds()
        for sent in rows.filter(channel="email").values_list("sent_at", flat=True)
    )
    keys = rows.values("subject_id", "channel").distinct().count()
    return {
        "appointments_reminded": written,
        "all_due_reminded": written == Appointment.objects.count(),
        "outbox_rows": rows.count(),
        "delivered": delivered,
        "emails_sent": len(mail.outbox),
        "duplicates": rows.count() - keys,
        "unsent": rows.exclude(state="sent").count(),
        "write_seconds": round(wrote_in, 2),
        "drain_seconds": round(seconds, 2),
        "reminders_per_second": round(written / seconds, 1),
        "lateness_p50_seconds": round(statistics.median(lateness), 2),
        "lateness_p99_seconds": round(lateness[int(len(lateness) * 0.99) - 1], 2),
    }


def baseline(n: int) -> dict | None:
    server = shutil.which("redis-server")
    if server is None:
        return None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _attempt in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        from portal.celery import app

        with app.connection_for_write(f"redis://127.0.0.1:{port}/0") as broker:
            producer = app.amqp.Producer(broker)
            began = time.perf_counter()
            for _index in range(n):
                app.send_task("bench.noop", producer=producer)
            seconds = time.perf_counter() - began
    finally:
        process.terminate()
        process.wait(timeout=20)
    return {"published": n, "seconds": round(seconds, 2), "per_second": round(n / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.OUTBOX_DRAIN_ON_COMMIT = False  # one process does the draining, as one worker
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        build(args.appointments)
        result = {"appointments": args.appointments, "batch": args.batch, **drain(args.batch)}
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
    base = baseline(args.appointments)
    result["baseline_publish_noop"] = base
    if base:
        result["ratio_drain_to_publish"] = round(result["drain_seconds"] / base["seconds"], 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
