"""Reads of the in-app inbox."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet
from django.utils import timezone, translation

from notifications.models import Notification
from notifications.render import message_render

PAGE_SIZE = 25


def inbox(*, account: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(account=account).order_by("-created_at", "-pk")


def inbox_page(*, account: Any, number: Any = 1) -> Page:
    """One page of the inbox, each entry rendered now in the reader's (active) language from
    its snapshot; entries without one show the text they were delivered with."""
    page = Paginator(inbox(account=account), PAGE_SIZE).get_page(number)
    language = translation.get_language() or settings.LANGUAGE_CODE
    now = timezone.now()
    for note in page.object_list:
        if note.params:
            rendered = message_render(
                kind=note.kind, params=note.params, language=language, now=now
            )
            note.title, note.body = rendered.title, rendered.inbox
    return page


def unread_count(*, account: Any) -> int:
    return Notification.objects.filter(account=account, read_at=None).count()


def unread_counts(*, accounts: list[int]) -> dict[int, int]:
    """Unread counts of many accounts in one query (absent: none unread)."""
    return dict(
        Notification.objects.filter(account_id__in=accounts, read_at=None)
        .values_list("account_id")
        .annotate(count=Count("pk"))
        .values_list("account_id", "count")
    )
