"""Reads behind the calendar feeds: a live feed token, and the appointments of the personal feed."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from appointments.models import Appointment, CalendarToken
from appointments.selectors.appointments import appointments_for_account
from hospitals.models import Doctor


def calendar_token_live(*, secret: str, purpose: str, doctor: Doctor | None = None):
    """The live token a feed secret names, or None (unknown, revoked, or another feed)."""
    if not secret:
        return None
    tokens = CalendarToken.objects.filter(
        token_hash=CalendarToken.hash_secret(secret), purpose=purpose, revoked_at__isnull=True
    ).select_related("owner")
    if doctor is not None:
        tokens = tokens.filter(doctor=doctor)
    return tokens.first()


FEED_PAST_DAYS = 30


def appointments_for_feed(*, account, now: dt.datetime | None = None) -> QuerySet[Appointment]:
    """What the personal feed lists: the account's appointments from a month ago onwards."""
    now = now or timezone.now()
    return (
        appointments_for_account(account=account)
        .filter(slot__start__gte=now - dt.timedelta(days=FEED_PAST_DAYS))
        .order_by("slot__start", "pk")
    )
