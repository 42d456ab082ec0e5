"""notify(...) writes outbox rows in the caller's transaction; outbox_deliver_due(...) sends them.

Delivery is at least once: the row, not the worker, is the truth. A row is claimed with
`select_for_update(skip_locked=True)` (PostgreSQL; SQLite writes one at a time anyway), sent,
and marked sent in the same transaction, so a worker killed between the send and the commit
leaves it pending and the next run sends it again with the same Message-ID.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Case, CharField, F, JSONField, Q, TextField, Value, When
from django.utils import timezone, translation

from audit.rows import rows_insert
from audit.services import audit_record
from notifications.drain import enqueue_drain
from notifications.live import push_unread, push_unread_many
from notifications.models import Notification, OutboxMessage
from notifications.render import Rendered, message_render
from notifications.sms import SMSRejected, mask_phone, send_sms

logger = logging.getLogger(__name__)

Channel = OutboxMessage.Channel
State = OutboxMessage.State

DEFAULT_CHANNELS = (Channel.EMAIL, Channel.INAPP)
MAX_ATTEMPTS = 8
RETRY_BASE_SECONDS = 30
RETRY_CAP_SECONDS = 3600
# What each channel shows: nothing renders a part its channel does not send.
EMAIL_PARTS = ("title", "body")
SMS_PARTS = ("title", "sms")
INBOX_PARTS = ("title", "inbox")


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


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff with full jitter, capped."""
    ceiling = min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_CAP_SECONDS)
    return dt.timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311


def _masked(row: OutboxMessage) -> str:
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


def _deliver_email(row: OutboxMessage, rendered: Rendered) -> None:
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


def _deliver_inapp(
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


def _deliver(row: OutboxMessage, now: dt.datetime, file_cache: dict, templates: dict) -> None:
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
        _deliver_email(row, rendered)
    else:
        for text in row_render(row, now=now, parts=SMS_PARTS, template_cache=templates).sms:
            send_sms(phone=row.address, text=text)


def _scrub(row: OutboxMessage, error: Exception) -> str:
    text = f"{type(error).__name__}: {error}"
    if row.address:
        text = text.replace(row.address, _masked(row))
    return text[:500]


def _forget_secret(row: OutboxMessage) -> list[str]:
    """Blank the text of a secret row that will not be sent again; the fields to save."""
    if not row.secret:
        return []
    row.body, row.link, row.attachments, row.params = "", "", [], {}
    return ["body", "link", "attachments", "params"]


# The text of a secret row, blanked in the same UPDATE that marks it sent.
_UNLESS_SECRET = {
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


def _failed(row: OutboxMessage, error: Exception, now: dt.datetime) -> None:
    row.last_error = _scrub(row, error)
    forgotten: list[str] = []
    # A provider's "never" (invalid template or number) is not tried again.
    if row.attempts >= MAX_ATTEMPTS or isinstance(error, SMSRejected):
        row.state = State.FAILED
        forgotten = _forget_secret(row)
        logger.error("Outbox #%s (%s) failed for good: %s", row.pk, row.kind, row.last_error)
    else:
        row.next_attempt_at = now + retry_delay(row.attempts)
        logger.warning("Outbox #%s (%s) will retry: %s", row.pk, row.kind, row.last_error)
    row.save(update_fields=["attempts", "state", "next_attempt_at", "last_error", *forgotten])


def outbox_deliver_due(*, batch: int = 100, now: dt.datetime | None = None) -> int:
    """Claim up to `batch` due rows nobody else holds, deliver each, record the outcome.
    Returns how many were sent. Safe to run any time, any number of times, in parallel.

    A batch costs a handful of queries, not a few per row: inbox entries go in with one INSERT,
    the sent rows are marked with one UPDATE, and each account's badge is pushed once."""
    now = now or timezone.now()
    with transaction.atomic():
        # Claimed by id, then read: sorting the due rows with their snapshots spilled to disk
        # at 200,000 pending (a second a batch in bench/reminders.py).
        claimed = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(state=State.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:batch]
        )
        rows: Sequence[OutboxMessage] = list(
            OutboxMessage.objects.filter(pk__in=claimed).order_by("next_attempt_at", "pk")
        )
        sent: list[OutboxMessage] = []
        inapp: list[OutboxMessage] = []
        file_cache: dict = {}  # an appointment's .ics is built once per batch
        templates: dict = {}  # each template looked up, each message's context worked out once
        for row in rows:
            if row.expires_at is not None and row.expires_at <= now:
                row.state = State.SKIPPED
                row.last_error = "expired before delivery"
                row.save(update_fields=["state", "last_error", *_forget_secret(row)])
                continue
            row.attempts += 1
            if row.channel == Channel.INAPP:
                inapp.append(row)
                continue
            try:
                _deliver(row, now, file_cache, templates)
            except Exception as error:  # every failure is recorded on the row
                _failed(row, error, now)
            else:
                sent.append(row)
        if inapp:
            try:
                with transaction.atomic():
                    changed = _deliver_inapp(inapp, now, templates)
            except Exception as error:
                for row in inapp:
                    _failed(row, error, now)
            else:
                sent.extend(inapp)
                push_unread_many(changed)
        if sent:
            # One moment for the whole batch, taken after its last send: never earlier than
            # the real delivery, so lateness measured from it is not flattered.
            OutboxMessage.objects.filter(pk__in=[row.pk for row in sent]).update(
                state=State.SENT,
                sent_at=timezone.now(),
                last_error="",
                attempts=F("attempts") + 1,
                **_UNLESS_SECRET,
            )
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


# --- The in-app inbox --------------------------------------------------------------------------


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
