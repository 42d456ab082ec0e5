"""Calendar-feed tokens: issue, revoke, and remember when a feed was last fetched."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from appointments.models import CalendarToken
from audit.services import audit_record
from hospitals.models import Doctor


def calendar_token_issue(
    *, owner: Any, purpose: str, doctor: Doctor | None = None, by: Any
) -> tuple[CalendarToken, str]:
    """Issue a feed link and return the token with its secret, shown once. Issuing again for
    the same feed revokes the previous link."""
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        now = timezone.now()
        previous = CalendarToken.objects.filter(
            owner=owner, purpose=purpose, doctor=doctor, revoked_at__isnull=True
        )
        revoked_ids = list(previous.values_list("pk", flat=True))
        previous.update(revoked_at=now)
        token = CalendarToken.objects.create(
            owner=owner,
            purpose=purpose,
            doctor=doctor,
            token_hash=CalendarToken.hash_secret(secret),
        )
        audit_record(
            actor=by,
            action="calendar_token.issue",
            target=doctor if doctor is not None else owner,
            data={"token_id": token.pk, "purpose": purpose, "revoked_token_ids": revoked_ids},
        )
    return token, secret


def calendar_token_revoke(*, token: CalendarToken, by: Any) -> CalendarToken:
    with transaction.atomic():
        updated = CalendarToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        token.refresh_from_db()
        if updated:
            audit_record(
                actor=by,
                action="calendar_token.revoke",
                target=token.doctor if token.doctor is not None else token.owner,
                data={"token_id": token.pk, "purpose": token.purpose},
            )
    return token


def calendar_token_mark_used(*, token: CalendarToken) -> None:
    """Remember when a feed was last fetched (not audited: calendar apps poll every hour)."""
    CalendarToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
