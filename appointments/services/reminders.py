"""Reminders before each appointment (settings.REMINDER_OFFSETS_HOURS, e.g. 24 h and 2 h).

The job claims due appointments in batches with `select_for_update(skip_locked=True)` (so any
number of workers may run it at once), writes each reminder to the outbox (unique per
appointment and offset) and records the offset on the appointment, all in one transaction per
batch: no ETA tasks, nothing lost when a worker dies, nothing written twice.

When several reminders are due at once (a worker that was down) only the latest is sent; none
once the appointment has started, and none whose moment had passed when the booking was made.
A reminder is a snapshot (notifications.render): its text says the real time ("today 10:00, in
2 h 15 min", "tomorrow 09:30") as of its delivery.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from appointments.ics import names_remembered
from appointments.models import Appointment
from appointments.services.messages import (
    CHANNELS,
    appointment_snapshot,
    booking_languages,
    ics_file,
)
from notifications.models import OutboxMessage
from notifications.services import outbox_rows, outbox_write


def reminder_offsets() -> list[int]:
    """Hours before the start, largest first."""
    return sorted({int(hours) for hours in settings.REMINDER_OFFSETS_HOURS}, reverse=True)


def _due(now: dt.datetime, offsets: list[int]) -> Q:
    """Booked, not started, within an offset smaller than the last one reminded of, and booked
    before that offset's window opened: a reminder whose moment had passed when the booking was
    made is never sent (booked at 07:45 for 08:15, neither the 24 h nor the 2 h one)."""
    due = Q(pk__in=[])
    ascending = sorted(offsets)
    for index, hours in enumerate(ascending):
        window = dt.timedelta(hours=hours)
        band = Q(slot__start__lte=now + window)
        band &= Q(slot__start__gt=now + dt.timedelta(hours=ascending[index - 1]) if index else now)
        band &= Q(created_at__lte=F("slot__start") - window)
        due |= band & (Q(reminded_hours=None) | Q(reminded_hours__gt=hours))
    return due


def _one_to_one_joins() -> list[str]:
    """telemedicine hangs a `consultation` off online appointments (appointments never imports
    it): join it into the claiming query when it exists, not one query per reminder."""
    names = {rel.name for rel in Appointment._meta.related_objects if rel.one_to_one}
    return [name for name in ("consultation",) if name in names]


def _latest_due_offset(appointment: Appointment, now: dt.datetime, offsets: list[int]) -> int:
    return min(h for h in offsets if appointment.slot.start <= now + dt.timedelta(hours=h))


def _reminder_rows(appointment: Appointment, hours: int, language: str) -> list[OutboxMessage]:
    """E-mail (with the .ics), SMS and inbox rows of one reminder: a snapshot, rendered at
    delivery, when "today 10:00, in 2 h 15 min" is measured."""
    params = appointment_snapshot(appointment)
    params["files"] = [ics_file(appointment, method="REQUEST")]
    return outbox_rows(
        account=appointment.told_account,
        kind=f"reminder.{hours}h",
        subject=appointment,
        params=params,
        channels=CHANNELS,
        language=language,
        chosen=True,
        expires_at=appointment.slot.start,
    )


def reminders_send_due_batch(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """One batch: claim up to `batch` due appointments and write their latest due reminder.
    Returns how many were claimed."""
    now = now or timezone.now()
    offsets = reminder_offsets()
    if not offsets:
        return 0
    with transaction.atomic(), names_remembered():
        # Claimed by id first (two tables, no wide rows), then read in full: joining the seven
        # tables into every due row before the sort cost a second a batch at 100,000 due.
        claimed = list(
            Appointment.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(_due(now, offsets), status=Appointment.Status.BOOKED)
            .order_by("slot__start", "pk")
            .values_list("pk", flat=True)[:batch]
        )
        appointments = list(
            Appointment.objects.filter(pk__in=claimed)
            .select_related(
                "patient",
                "booked_by",
                "cap_account",
                "slot",
                "slot__doctor",
                "slot__site",
                "slot__department",
                *_one_to_one_joins(),
            )
            .order_by("slot__start", "pk")
        )
        languages = booking_languages(appointments)
        rows: list[OutboxMessage] = []
        reminded: dict[int, list[int]] = defaultdict(list)
        for appointment in appointments:
            hours = _latest_due_offset(appointment, now, offsets)
            language = languages.get(str(appointment.pk)) or settings.LANGUAGE_CODE
            rows.extend(_reminder_rows(appointment, hours, language))
            reminded[hours].append(appointment.pk)
        # The whole batch in a few statements: one look and one INSERT for the outbox, one
        # UPDATE per offset for the appointments.
        outbox_write(rows=rows)
        for hours, pks in reminded.items():
            Appointment.objects.filter(pk__in=pks).update(reminded_hours=hours)
    return len(appointments)


def reminders_send_due(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Every due reminder, batch after batch. Safe any time, any number of times, in parallel."""
    total = 0
    while True:
        claimed = reminders_send_due_batch(now=now, batch=batch)
        total += claimed
        if claimed < batch:
            return total
