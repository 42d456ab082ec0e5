"""How fast worker processes write and deliver due reminders through the outbox, on PostgreSQL.

    make bench-reminders        # from a fresh clone: 100,000 reminders, 3 workers
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_jobs \
        .venv/bin/python bench/reminders.py [--appointments 100000] [--workers 3] [--batch 500]

Everything happens in a scratch database (Django's test database, `test_<name>`), created and
migrated at the start and dropped at the end. N booked appointments all become due for their
24 h reminder at once; one process then does what one worker does: `reminders_send_due` (claim
batches with SKIP LOCKED, write an e-mail, an SMS and an inbox row each: every account has a
verified e-mail and number) and `outbox_drain` (deliver them; e-mail and SMS to the locmem
backends, i.e. counters). Measured: drain time, reminders per second, p99 lateness (sent − due,
where "due" is the moment they all became due), duplicates and what is missing (e-mails by
Message-ID, texts by number), texts over 70 characters.

Baseline, in the same run: a bare loop publishing N no-op task messages to a private Redis
(started on a free port and stopped at the end; skipped when redis-server is missing).

Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

from benchenv import prepare_environment

prepare_environment()

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from reminders_work import build, run_worker  # noqa: E402


def deliver(batch: int, workers: int, profile: bool) -> dict:
    """`workers` forked processes, each writing and delivering; then the count of what went
    out: e-mails by Message-ID (a repeat is a duplicate), inbox entries, and what is missing."""
    from appointments.models import Appointment
    from notifications.models import Notification, OutboxMessage

    connections.close_all()
    if getattr(connection, "pool", None) is not None:
        connection.close_pool()  # a forked child opens its own (a pool's threads do not fork)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    due = django.utils.timezone.now()
    began = time.perf_counter()
    processes = [
        context.Process(target=run_worker, args=(queue, batch, profile)) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    seconds = time.perf_counter() - began
    load = os.getloadavg()
    for process in processes:
        process.join()
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        raise RuntimeError(errors)
    for result in results:
        if "profile" in result:
            print(result["profile"], file=sys.stderr)
    message_ids = [mid for r in results for mid in r["message_ids"]]
    phones = [phone for r in results for phone in r["sms_phones"]]
    rows = OutboxMessage.objects.filter(kind="reminder.24h")
    emails = rows.filter(channel="email")
    appointments = Appointment.objects.count()
    reminded = Appointment.objects.filter(reminded_hours=24).count()
    lateness = sorted(
        (sent - due).total_seconds() for sent in emails.values_list("sent_at", flat=True) if sent
    )
    inbox = Notification.objects.filter(kind="reminder.24h")
    written = sum(r["wrote"] for r in results)
    return {
        "workers": workers,
        "appointments_reminded": written,
        "written_per_worker": [r["wrote"] for r in results],
        "delivered_per_worker": [r["delivered"] for r in results],
        "outbox_rows": rows.count(),
        "emails_sent": len(message_ids),
        "emails_with_ics": sum(r["ics_attached"] for r in results),
        "sms_sent": len(phones),
        "sms_numbers": len(set(phones)),
        "sms_over_70_chars": sum(r["sms_over_70"] for r in results),
        "inbox_entries": inbox.count(),
        # Duplicates: an e-mail sent twice (same Message-ID), an appointment claimed twice, an
        # outbox row or inbox entry twice for one appointment.
        "duplicates": {
            "emails": len(message_ids) - len(set(message_ids)),
            "sms": len(phones) - len(set(phones)),
            "claims": written - reminded,
            "outbox_rows": rows.count() - rows.values("subject_id", "channel").distinct().count(),
            "inbox_entries": inbox.count() - inbox.values("source_id").distinct().count(),
        },
        "missing": {
            "reminders": appointments - reminded,
            "emails": appointments - len(set(message_ids)),
            "sms": appointments - len(set(phones)),
            "inbox_entries": appointments - inbox.count(),
            "unsent_rows": rows.exclude(state="sent").count(),
        },
        "write_seconds_max": round(max(r["write_seconds"] for r in results), 2),
        "deliver_seconds_max": round(max(r["deliver_seconds"] for r in results), 2),
        "worker_cpu_seconds": round(sum(r["cpu_seconds"] for r in results), 1),
        "worker_cpu_ms_per_reminder": round(
            1000 * sum(r["cpu_seconds"] for r in results) / max(written, 1), 2
        ),
        "total_seconds": round(seconds, 2),
        "reminders_per_second": round(written / seconds, 1),
        "lateness_p50_seconds": round(statistics.median(lateness), 2) if lateness else None,
        "lateness_p99_seconds": round(lateness[int(len(lateness) * 0.99) - 1], 2)
        if lateness
        else None,
        "load_average_1_5_15": [round(value, 2) for value in load],
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
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--accounts", type=int, default=0, help="default: one per appointment")
    parser.add_argument("--profile", action="store_true", help="cProfile each worker (stderr)")
    args = parser.parse_args()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Texts to a counter too, as e-mail: a provider's HTTP call is not ours to measure, and
    # the console's log line per text is development's (it logged 200,000 lines here).
    settings.SMS_BACKEND = "notifications.sms.LocmemBackend"
    settings.OUTBOX_DRAIN_ON_COMMIT = False  # one process does the draining, as one worker
    # Not setup_test_environment(): its instrumented template render (a signal per template)
    # cost a tenth of the workers' time, which no production worker pays.
    began = time.perf_counter()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        build(args.appointments, args.accounts or args.appointments)
        built = time.perf_counter()
        result = {
            "appointments": args.appointments,
            "batch": args.batch,
            **deliver(args.batch, args.workers, args.profile),
        }
        result["build_seconds"] = round(built - began, 1)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    base = baseline(args.appointments)
    result["baseline_publish_noop"] = base
    if base:
        result["ratio_total_to_publish"] = round(result["total_seconds"] / base["seconds"], 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
