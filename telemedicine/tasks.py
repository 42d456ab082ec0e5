"""Celery doors into telemedicine's services (thin: no business logic here)."""

from __future__ import annotations

from celery import shared_task

from telemedicine.services import expire_unfinished


@shared_task
def expire_unfinished_consults() -> int:
    """Every few minutes: close the rooms nobody ended and apply the no-show rules."""
    return expire_unfinished()
