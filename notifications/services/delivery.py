"""How an outbox row goes out: the lease of a batch, rendering a row from its snapshot, the
e-mail and SMS and inbox deliveries, and what a failure does to the row (backoff, then
`failed`). `notifications.services.outbox_deliver_due` runs a batch through these."""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Sequence
from typing import Any

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Case, CharField, F, JSONField, TextField, Value, When

from notifications.models import Notification, OutboxMessage
from notifications.render import Rendered, message_render
from notifications.sms import SMSRejected, mask_phone, send_sms

logger = logging.getLogger(__name__)

Channel = OutboxMessage.Channel
State = OutboxMessage.State

MAX_ATTEMPTS = 8
RETRY_BASE_SECONDS = 30
RETRY_CAP_SECONDS = 3600
# What each channel shows: nothing renders a part its channel does not send.
EMAIL_PARTS = ("title", "body")
SMS_PARTS = ("title", "sms")
INBOX_PARTS = ("title", "inbox")


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff with full jitter, capped."""
    ceiling = min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_CAP_SECONDS)
    return dt.timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311


def masked(row: OutboxMessage) -> str:
    if row.channel == Channel.SMS:
        return mask_phone(row.address)
    name, _, domain = row.address.partition("@")
    return f"{name[:1]}***@{domain}" if domain else "***"


def row_render(row: OutboxMessage, *, now: dt.datetime | None = None, **options: Any) -> Rendered:
    """A row's message in its own language: from its snapshot, or as stored (older rows)."""
    if row.params:
        rendered = message_render(
            kind=row.kind, params=row.params, language=row.language, now=now, **options
        )
        rendered.files.extend(row.attachments)  # finished files its writer attached
        return rendered
    return Rendered(
        title=row.title,
        body=row.body,
        inbox=row.body,
        sms=[row.body],
        link=row.link,
        files=list(row.attachments),
    )


def deliver_email(row: OutboxMessage, rendered: Rendered) -> None:
    message = EmailMessage(
        subject=rendered.title,
        body=rendered.body,
        to=[row.address],
        headers={"Message-ID": row.message_id},
    )
    for attachment in rendered.files:
        message.attach(
            attachment["name"],
            attachment["content"],
            f"text/calendar; method={attachment['method']}; charset=utf-8",
        )
    message.send()


def deliver_inapp(
    rows: Sequence[OutboxMessage], now: dt.datetime, templates: dict | None = None
) -> set[int]:
    """One INSERT for a batch's inbox entries, which keep the snapshot (the inbox renders it
    again in the reader's language) and the text as first delivered. An entry an earlier, cut
    delivery already made is found by its unique `source` and left alone. Returns the accounts
    whose inbox changed."""
    entries = []
    templates = {} if templates is None else templates  # looked up once for the batch
    for row in rows:
        rendered = row_render(row, now=now, parts=INBOX_PARTS, template_cache=templates)
        entries.append(
            Notification(
                source=row,
                account_id=row.account_id,
                kind=row.kind if row.params else "",
                params=row.params,
                title=rendered.title,
                body=rendered.inbox,
                link=rendered.link,
                created_at=row.created_at,
            )
        )
    Notification.objects.bulk_create(entries, ignore_conflicts=True)
    return {row.account_id for row in rows}


def deliver(row: OutboxMessage, now: dt.datetime, file_cache: dict, templates: dict) -> None:
    """E-mail or SMS, rendered from the snapshot now. Neither writes to our database (an SMS
    backend talks to its provider only), so no savepoint per row: a batch's statements stay
    the same however many texts it holds. A text too long for one SMS goes as its parts."""
    if row.channel == Channel.EMAIL:
        rendered = row_render(
            row,
            now=now,
            files=True,
            file_cache=file_cache,
            parts=EMAIL_PARTS,
            template_cache=templates,
        )
        deliver_email(row, rendered)
    else:
        for text in row_render(row, now=now, parts=SMS_PARTS, template_cache=templates).sms:
            send_sms(phone=row.address, text=text)


def scrub(row: OutboxMessage, error: Exception) -> str:
    text = f"{type(error).__name__}: {error}"
    if row.address:
        text = text.replace(row.address, masked(row))
    return text[:500]


def forget_secret(row: OutboxMessage) -> list[str]:
    """Blank the text of a secret row that will not be sent again; the fields to save."""
    if not row.secret:
        return []
    row.body, row.link, row.attachments, row.params = "", "", [], {}
    return ["body", "link", "attachments", "params"]


# The text of a secret row, blanked in the same UPDATE that marks it sent.
UNLESS_SECRET = {
    field: Case(
        When(secret=True, then=Value(empty, output_field=kind())),
        default=F(field),
        output_field=kind(),
    )
    for field, empty, kind in (
        ("body", "", TextField),
        ("link", "", CharField),
        ("attachments", [], JSONField),
        ("params", {}, JSONField),
    )
}


def record_failure(row: OutboxMessage, error: Exception, now: dt.datetime) -> None:
    row.last_error = scrub(row, error)
    forgotten: list[str] = []
    # A provider's "never" (invalid template or number) is not tried again.
    if row.attempts >= MAX_ATTEMPTS or isinstance(error, SMSRejected):
        row.state = State.FAILED
        forgotten = forget_secret(row)
        logger.error("Outbox #%s (%s) failed for good: %s", row.pk, row.kind, row.last_error)
    else:
        row.next_attempt_at = now + retry_delay(row.attempts)
        logger.warning("Outbox #%s (%s) will retry: %s", row.pk, row.kind, row.last_error)
    row.save(update_fields=["attempts", "state", "next_attempt_at", "last_error", *forgotten])


# How long a claimed row is left to the worker that claimed it. Past it, a row not yet marked
# (its worker died mid-batch) is due again. Far longer than a batch takes to send.
CLAIM_LEASE = dt.timedelta(minutes=5)


def claim(batch: int, now: dt.datetime) -> list[OutboxMessage]:
    """Up to `batch` due rows nobody else holds, leased to this worker in one short
    transaction: their next attempt moves past the lease, so no other worker takes them while
    they are sent, and no lock is held while they are."""
    with transaction.atomic():
        # Claimed by id, then read: sorting the due rows with their snapshots spilled to disk
        # at 200,000 pending (a second a batch in bench/reminders.py).
        claimed = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(state=State.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not claimed:
            return []
        rows = list(OutboxMessage.objects.filter(pk__in=claimed).order_by("next_attempt_at", "pk"))
        OutboxMessage.objects.filter(pk__in=claimed).update(next_attempt_at=now + CLAIM_LEASE)
    return rows
