"""Celery doors into appointments' services (thin: no business logic here)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from appointments.services.holds import release_expired_holds as release_expired_holds_service
from appointments.services.next_free import next_free_periods_refresh_due
from appointments.services.reminders import reminders_send_due
from appointments.services.rota import slots_generate
from appointments.services.status import mark_no_shows as mark_no_shows_service

UPCOMING_DAYS = 28


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_jitter=True, max_retries=3)
def generate_upcoming_slots(days: int = UPCOMING_DAYS) -> int:
    """Nightly: keep the next `days` days of slots in line with the rota."""
    today = timezone.localdate()
    return slots_generate(start=today, end=today + dt.timedelta(days=days - 1))


@shared_task
def release_expired_holds() -> int:
    """Every minute: give back the places of holds that ran out."""
    return release_expired_holds_service()


# Idempotent by the rows they check (a reminder is unique per appointment and offset, a no-show
# is a status edge taken once), so a message of a worker lost mid-task may be run again.
IDEMPOTENT = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 3,
}


@shared_task(**IDEMPOTENT)
def send_due_reminders(batch: int = 500) -> int:
    """Every minute: write the reminders now due to the outbox, batch after batch."""
    return reminders_send_due(batch=batch)


@shared_task(**IDEMPOTENT)
def mark_no_shows() -> int:
    """Every few minutes: booked in-person appointments nobody checked in become no-shows."""
    return mark_no_shows_service()


@shared_task(**IDEMPOTENT)
def refresh_next_free_periods() -> int:
    """Every 20 seconds: recompute the next free periods that time has made stale (a period
    started, or an earlier one was released); search works them out from the slots meanwhile."""
    return next_free_periods_refresh_due()
