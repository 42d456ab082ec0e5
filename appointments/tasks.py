"""Celery doors into appointments' services (thin: no business logic here)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from appointments.services import slots_generate

UPCOMING_DAYS = 28


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_jitter=True, max_retries=3)
def generate_upcoming_slots(days: int = UPCOMING_DAYS) -> int:
    """Nightly: keep the next `days` days of slots in line with the rota."""
    today = timezone.localdate()
    return slots_generate(start=today, end=today + dt.timedelta(days=days - 1))
