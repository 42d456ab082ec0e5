"""Reads of the in-app inbox."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import connection
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
    """The header's badge, on every signed-in page: fixed text, not a compiled queryset
    (compiling it was a tenth of a rush's sold-out answer); the same rows as
    `Notification.objects.filter(account=account, read_at=None)`."""
    with connection.cursor() as cursor:
        cursor.execute(_UNREAD, [getattr(account, "pk", account)])
        return cursor.fetchone()[0]


_UNREAD = (
    f"SELECT COUNT(*) FROM {Notification._meta.db_table} "  # noqa: S608 (a table name)
    "WHERE account_id = %s AND read_at IS NULL"
)


def unread_counts(*, accounts: list[int]) -> dict[int, int]:
    """Unread counts of many accounts in one query (absent: none unread)."""
    return dict(
        Notification.objects.filter(account_id__in=accounts, read_at=None)
        .values_list("account_id")
        .annotate(count=Count("pk"))
        .values_list("account_id", "count")
    )
