"""Celery doors into notifications' services (thin: no logic here)."""

from __future__ import annotations

from celery import shared_task

from notifications.services.outbox import outbox_deliver_due


# Idempotent by the rows it claims (leased, sent, then marked sent), so a worker lost mid-task
# may hand the message back once the lease ends: at worst one e-mail repeats, same Message-ID.
@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def deliver_outbox(batch: int = 100) -> int:
    """Every 30 s from the beat, and on commit after new rows: send what is due."""
    return outbox_deliver_due(batch=batch)
