"""The scratch data and the worker process of bench/reminders.py (split for the 500-line rule).

Imported after `django.setup()` by bench/reminders.py; each worker is a forked process with a
connection of its own (the parent closes its connections before forking).
"""

from __future__ import annotations

import cProfile
import datetime as dt
import io
import pstats
import time

import django
from django.core import mail
from django.db import connections

CHUNK = 5000


def build(n: int, accounts: int) -> None:
    """N booked appointments, all due for their 24 h reminder at once, spread over `accounts`
    accounts with a verified e-mail (so each reminder is an e-mail with its .ics and an inbox
    entry), one patient."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from appointments.models import Appointment, Slot
    from hospitals.models import Department, Doctor, Hospital
    from records.idnumbers import make_id_number
    from records.models import Patient

    now = django.utils.timezone.now()
    hospital = Hospital.objects.create(slug="bench", name="基准医院", kind="hospital")
    department = Department.objects.create(hospital=hospital, name="皮肤科", slug="derm")
    doctor = Doctor.objects.create(
        hospital=hospital, department=department, name="医生", title="attending"
    )
    unusable = make_password(None)
    people = []
    for first in range(0, accounts, CHUNK):
        people += User.objects.bulk_create(
            # A verified e-mail and number each, as issue 18 asks: e-mail, SMS and inbox rows.
            User(
                email=f"p{i}@bench.example",
                email_verified=True,
                phone=f"+86137{i:08d}",
                phone_verified=True,
                password=unusable,
            )
            for i in range(first, min(first + CHUNK, accounts))
        )
    patient = Patient(name="王小明", birth_date=dt.date(1990, 1, 1), sex="male")
    patient.set_id_number(make_id_number(birth_date=patient.birth_date, sex="male", sequence=1))
    patient.save()
    start = now + dt.timedelta(hours=3)
    for first in range(0, n, CHUNK):
        slots = Slot.objects.bulk_create(
            Slot(
                doctor=doctor,
                site=hospital,
                department=department,
                # All within the hour after `start`: every one is due for its 24 h reminder
                # from the first moment.
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
            for i in range(first, min(first + CHUNK, n))
        )
        Appointment.objects.bulk_create(
            Appointment(
                code=f"B{slot.pk:09d}",
                patient=patient,
                slot=slot,
                booked_by=people[index % len(people)],
                created_at=now - dt.timedelta(days=2),
            )
            for index, slot in enumerate(slots, first)
        )
    # A city's tables have statistics; a freshly bulk-loaded scratch database has none.
    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE")


def work(batch: int, profile: bool) -> dict:
    """What one worker does when 'send due reminders' and 'drain the outbox' fire: write every
    due reminder it can claim, then deliver until nothing is due; again until both find nothing
    (another worker may still have been writing)."""
    from appointments.services import reminders_send_due
    from notifications import sms
    from notifications.services import outbox_drain

    connections.close_all()  # never the parent's socket
    mail.outbox = []
    sms.outbox.clear()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    wrote = delivered = 0
    write_seconds = deliver_seconds = 0.0
    cpu = time.process_time()
    while True:
        began = time.perf_counter()
        claimed = reminders_send_due(batch=batch)
        middle = time.perf_counter()
        sent = outbox_drain(batch=batch, limit=10**9)
        write_seconds += middle - began
        deliver_seconds += time.perf_counter() - middle
        wrote += claimed
        delivered += sent
        if not claimed and not sent:
            break
    result = {
        "wrote": wrote,
        "delivered": delivered,
        "write_seconds": write_seconds,
        "deliver_seconds": deliver_seconds,
        # This process's own CPU: what a reminder costs the worker, whatever else the machine
        # runs (wall time on a shared machine is mostly waiting for a core).
        "cpu_seconds": time.process_time() - cpu,
        "message_ids": [message.extra_headers["Message-ID"] for message in mail.outbox],
        "ics_attached": sum(1 for message in mail.outbox if message.attachments),
        # Every bench account has its own number and one appointment: a number texted twice
        # is a duplicate; more texts than numbers is a text split into parts.
        "sms_phones": [text.phone for text in sms.outbox],
        "sms_over_70": sum(1 for text in sms.outbox if len(text.text) > 70),
    }
    if profiler:
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(45)
        result["profile"] = text.getvalue()
    connections.close_all()
    return result


def run_worker(queue, batch: int, profile: bool) -> None:
    try:
        queue.put(work(batch, profile))
    except BaseException as error:  # the parent reports it instead of waiting forever
        queue.put({"error": f"{type(error).__name__}: {error}"})
        raise
