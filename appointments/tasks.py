"""Celery doors into appointments' services (thin: no business logic here)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from appointments.services import mark_no_shows as mark_no_shows_service
from appointments.services import release_expired_holds as release_expired_holds_service
from appointments.services import slots_generate

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


@shared_task
def mark_no_shows() -> int:
    """Every few minutes: booked in-person appointments nobody checked in become no-shows."""
    return mark_no_shows_service()
