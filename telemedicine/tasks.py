"""Celery doors into telemedicine's services (thin: no business logic here)."""

from __future__ import annotations

from celery import shared_task

from telemedicine.opening import consults_tell_opening
from telemedicine.services import expire_unfinished
from telemedicine.services_text import text_consults_close_due


@shared_task
def expire_unfinished_consults() -> int:
    """Every few minutes: close the rooms nobody ended and apply the no-show rules."""
    return expire_unfinished()


@shared_task
def close_due_text_consults() -> int:
    """Every few minutes: text consults past their time close on their own (24 h without an
    answer: "not answered — no fee"; 48 h after the doctor's last message)."""
    return text_consults_close_due()


@shared_task
def tell_opening_consults() -> int:
    """Every minute: tell the people of each consult room that opened (SMS and inbox)."""
    return consults_tell_opening()
