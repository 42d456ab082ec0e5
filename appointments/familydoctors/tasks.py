"""Celery doors into the family-doctor services."""

from __future__ import annotations

from celery import shared_task

from appointments.familydoctors.services import followup_reminders_send


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_jitter=True, max_retries=5)
def remind_due_followups() -> int:
    return followup_reminders_send()
