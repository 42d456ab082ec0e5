"""notify(...) writes outbox rows in the caller's transaction; outbox_deliver_due(...) sends them.

Delivery is at least once: the row, not the worker, is the truth. A batch is claimed with
`select_for_update(skip_locked=True)` (PostgreSQL; SQLite writes one at a time anyway) and
leased in one short transaction (its next attempt moved `CLAIM_LEASE` ahead), then rendered and
sent with no transaction open, then marked sent. A worker killed before the mark leaves its rows
pending: once the lease runs out the next run sends them again with the same Message-ID.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation

from audit.rows import rows_insert
from notifications.drain import enqueue_drain
from notifications.live import push_unread_many
from notifications.models import OutboxMessage
from notifications.services.delivery import (
    UNLESS_SECRET,
    claim,
    deliver,
    deliver_inapp,
    forget_secret,
    record_failure,
)

logger = logging.getLogger(__name__)

Channel = OutboxMessage.Channel
State = OutboxMessage.State

DEFAULT_CHANNELS = (Channel.EMAIL, Channel.INAPP)


def _attachments(ics: Any) -> list[dict[str, str]]:
    """`ics` is the text of one calendar file (attached as invite.ics, METHOD:REQUEST) or a list
    of (file name, content, METHOD) triples."""
    if not ics:
        return []
    if isinstance(ics, str | bytes):
        ics = [("invite.ics", ics, "REQUEST")]
    return [
        {
            "name": name,
            "content": content.decode() if isinstance(content, bytes) else content,
            "method": method,
        }
        for name, content, method in ics
    ]


def _address(account: Any, channel: str) -> str:
    if channel == Channel.EMAIL:
        # Nothing goes to an address its owner has not confirmed (e-mail is optional and
        # verified by allauth's link; issue 18).
        return account.email if account.email and account.email_verified else ""
    if channel == Channel.SMS:
        return account.phone if account.phone and account.phone_verified else ""
    return ""


def _chosen(account: Any, channel: str) -> bool:
    """The person's choice of channels on their account page (the inbox is always on)."""
    if channel == Channel.EMAIL:
        return getattr(account, "message_by_email", True)
    if channel == Channel.SMS:
        return getattr(account, "message_by_sms", True)
    return True


def _snapshot(context: dict[str, Any] | None, params: dict[str, Any] | None) -> dict[str, Any]:
    if params is not None:
        return params
    if context is None:
        raise ValueError("A message needs its `params` (or, for a finished text, `context`).")
    # A text its writer finished (an invitation): rendered as it is, by messages/text/.
    return {"text": {key: str(value) for key, value in context.items()}}


def outbox_rows(
    *,
    account: Any,
    kind: str,
    subject: Any,
    context: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    channels: Iterable[str] = DEFAULT_CHANNELS,
    ics: Any = None,
    expires_at: dt.datetime | None = None,
    address: str = "",
    secret: bool = False,
    language: str | None = None,
    chosen: bool = False,
    always: Iterable[str] = (),
) -> list[OutboxMessage]:
    """The unsaved rows `notify(...)` writes: a job that tells many people at once builds them
    one by one and writes them with one `outbox_write(...)`. Renders nothing."""
    channels = tuple(channels)
    always = set(always)
    if account is None and (not address or set(channels) != {Channel.EMAIL}):
        raise ValueError("Without an account, a message is an e-mail to `address`.")
    if secret and Channel.INAPP in channels:
        raise ValueError("A secret never goes to the inbox, which keeps what it shows.")
    snapshot = _snapshot(context, params)
    # Only an e-mail attaches files: the text and inbox rows keep the snapshot without their
    # specs (a reminder's .ics facts were most of each row's JSON, written and read 3 times).
    unfiled = {key: value for key, value in snapshot.items() if key != "files"}
    subject_type = ContentType.objects.get_for_model(subject)
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    rows = []
    for channel in channels:
        if chosen and channel not in always and not _chosen(account, channel):
            continue
        to = address if address and channel == Channel.EMAIL else _address(account, channel)
        if channel == Channel.SMS and not to:
            continue  # no pending text message for a number nobody verified
        skipped = channel != Channel.INAPP and not to
        rows.append(
            OutboxMessage(
                channel=channel,
                account=account,
                address=to,
                kind=kind,
                subject_type=subject_type,
                subject_id=str(subject.pk),
                language=language,
                # Never sent, so nothing to keep of a secret.
                params={}
                if secret and skipped
                else snapshot
                if channel == Channel.EMAIL
                else unfiled,
                attachments=_attachments(ics) if channel == Channel.EMAIL and ics else [],
                secret=secret,
                expires_at=expires_at,
                state=State.SKIPPED if skipped else State.PENDING,
                last_error="no address" if skipped else "",
            )
        )
    return rows


KEY_FIELDS = ("subject_type_id", "subject_id", "kind", "account_id", "address", "channel")


def _key_of(subject_type_id, subject_id, kind, account_id, address, channel) -> tuple:
    # A recipient is its account, or its address when it has none.
    return (subject_type_id, subject_id, kind, account_id, "" if account_id else address, channel)


def _key(row: OutboxMessage) -> tuple:
    return _key_of(*(getattr(row, field) for field in KEY_FIELDS))


def outbox_write(*, rows: Sequence[OutboxMessage], fresh: bool = False) -> int:
    """Insert the rows whose (subject, kind, recipient, channel) is not in the outbox yet, in
    the caller's transaction: one query to look, one INSERT, however many rows. Returns how many
    were new. `fresh` says the subject was created in this transaction, so nothing can be
    there yet: the look is skipped (a concurrent duplicate still loses to the unique index)."""
    if not rows:
        return 0
    existing: set[tuple] = set()
    if not fresh:
        recipients = Q(account_id__in={row.account_id for row in rows} - {None})
        addressed = {row.address for row in rows if row.account_id is None}
        if addressed:
            recipients |= Q(account=None, address__in=addressed)
        existing = {
            _key_of(*values)
            for values in OutboxMessage.objects.filter(
                recipients,
                subject_type_id__in={row.subject_type_id for row in rows},
                subject_id__in={row.subject_id for row in rows},
                kind__in={row.kind for row in rows},
            ).values_list(*KEY_FIELDS)
        }
    new = []
    for row in rows:
        if _key(row) not in existing:
            existing.add(_key(row))
            new.append(row)
    # ignore_conflicts: a concurrent writer of the same key wins quietly (INSERT ... ON CONFLICT
    # DO NOTHING on both PostgreSQL and SQLite).
    rows_insert(OutboxMessage, new, ignore_conflicts=True)
    if any(row.state == State.PENDING for row in new):
        transaction.on_commit(enqueue_drain)
    return len(new)


def notify(
    *,
    account: Any,
    kind: str,
    subject: Any,
    context: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    channels: Iterable[str] = DEFAULT_CHANNELS,
    ics: Any = None,
    expires_at: dt.datetime | None = None,
    address: str = "",
    secret: bool = False,
    language: str | None = None,
    chosen: bool = False,
    always: Iterable[str] = (),
    fresh: bool = False,
) -> int:
    """Write one outbox row per channel for `account` about `subject` (any model instance), in
    the caller's transaction: a rolled-back change writes nothing. Idempotent by (subject, kind,
    recipient, channel): calling again writes nothing. Returns how many rows were new.

    `params` is the JSON snapshot the one renderer (`notifications.render`) reads at delivery,
    with the templates `messages/<kind>/`; nothing is rendered here. `context` is for a text
    its writer finished (`title`, `body`, optional `link` and `sms`). The row's language is
    `language`, else the active one. A message still unsent at `expires_at` is skipped.

    An SMS row is written only for a verified number. With `chosen`, the channels the account
    turned off on its account page are left out, except those in `always` (a stop-clinic
    notice always goes by SMS). `fresh`: the subject is new in this transaction.

    `address` is the e-mail address to write to instead of the account's; with `account=None`
    it is the only recipient (someone invited who may have no account), e-mail only. `secret`
    marks a text that holds a credential (a one-time link): its text is blanked once it is
    sent, fails for good or is skipped, and it never goes to the in-app inbox."""
    return outbox_write(
        rows=outbox_rows(
            account=account,
            kind=kind,
            subject=subject,
            context=context,
            params=params,
            channels=channels,
            ics=ics,
            expires_at=expires_at,
            address=address,
            secret=secret,
            language=language,
            chosen=chosen,
            always=always,
        ),
        fresh=fresh,
    )


def outbox_deliver_due(*, batch: int = 100, now: dt.datetime | None = None) -> int:
    """Claim up to `batch` due rows nobody else holds, deliver each, record the outcome.
    Returns how many were sent. Safe to run any time, any number of times, in parallel.

    Rendering and sending happen outside any transaction (an SMTP server or an SMS provider
    may take seconds): the rows are leased first (`claim`), then sent, then marked. A batch
    costs a handful of queries, not a few per row: inbox entries go in with one INSERT, the
    sent rows are marked with one UPDATE, and each account's badge is pushed once."""
    now = now or timezone.now()
    rows = claim(batch, now)
    sent: list[OutboxMessage] = []
    inapp: list[OutboxMessage] = []
    file_cache: dict = {}  # an appointment's .ics is built once per batch
    templates: dict = {}  # each template looked up, each message's context worked out once
    for row in rows:
        if row.expires_at is not None and row.expires_at <= now:
            row.state = State.SKIPPED
            row.last_error = "expired before delivery"
            row.save(update_fields=["state", "last_error", *forget_secret(row)])
            continue
        row.attempts += 1
        if row.channel == Channel.INAPP:
            inapp.append(row)
            continue
        try:
            deliver(row, now, file_cache, templates)
        except Exception as error:  # every failure is recorded on the row
            record_failure(row, error, now)
        else:
            sent.append(row)
    changed: set[int] = set()
    if inapp:
        try:
            with transaction.atomic():
                changed = deliver_inapp(inapp, now, templates)
        except Exception as error:
            for row in inapp:
                record_failure(row, error, now)
        else:
            sent.extend(inapp)
    if sent:
        # One moment for the whole batch, taken after its last send: never earlier than the
        # real delivery, so lateness measured from it is not flattered.
        OutboxMessage.objects.filter(pk__in=[row.pk for row in sent]).update(
            state=State.SENT,
            sent_at=timezone.now(),
            last_error="",
            attempts=F("attempts") + 1,
            **UNLESS_SECRET,
        )
    if changed:
        push_unread_many(changed)
    return len(sent)


def outbox_drain(*, batch: int = 100, limit: int = 100_000) -> int:
    """Deliver batches until a batch sends nothing (or `limit` rows were sent)."""
    total = 0
    while total < limit:
        sent = outbox_deliver_due(batch=batch)
        if not sent:
            break
        total += sent
    return total
