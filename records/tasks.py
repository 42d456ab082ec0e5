"""Celery doors into records' services (thin: no business logic here)."""

from __future__ import annotations

from celery import shared_task

from records.services.referrals import expire_referrals as expire_referrals_service


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_jitter=True, max_retries=3)
def expire_referrals() -> int:
    """Hourly: issued referrals past their validity become expired (idempotent)."""
    return expire_referrals_service()
