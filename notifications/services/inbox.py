"""The in-app inbox's verbs: marking one notification, or all of an account's, read."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from notifications.live import push_unread
from notifications.models import Notification


def notification_mark_read(*, account: Any, notification: Notification) -> Notification:
    """Mark one of the account's own notifications read (again is a no-op)."""
    if notification.account_id != account.pk:
        raise Notification.DoesNotExist
    with transaction.atomic():
        updated = Notification.objects.filter(pk=notification.pk, read_at=None).update(
            read_at=timezone.now()
        )
        if updated:
            audit_record(actor=account, action="notification.read", target=notification)
            push_unread(account.pk)
    notification.refresh_from_db()
    return notification


def notification_mark_all_read(*, account: Any) -> int:
    with transaction.atomic():
        updated = Notification.objects.filter(account=account, read_at=None).update(
            read_at=timezone.now()
        )
        if updated:
            audit_record(
                actor=account,
                action="notification.read_all",
                target=account,
                data={"count": updated},
            )
            push_unread(account.pk)
    return updated
