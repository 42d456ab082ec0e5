"""Reads of the in-app inbox."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from notifications.models import Notification

PAGE_SIZE = 25


def inbox(*, account: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(account=account).order_by("-created_at", "-pk")


def inbox_page(*, account: Any, number: Any = 1) -> Page:
    return Paginator(inbox(account=account), PAGE_SIZE).get_page(number)


def unread_count(*, account: Any) -> int:
    return Notification.objects.filter(account=account, read_at=None).count()
