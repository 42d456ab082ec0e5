"""The outbox (every message to a person, written in the transaction that causes it) and the
in-app inbox (DESIGN.md §2).

A row holds its kind, its language and a JSON snapshot of what it speaks of (`params`: times,
doctor, place, code, ...), never a finished text: the transaction that writes it renders
nothing, the worker renders e-mail and SMS from the snapshot at delivery
(`notifications.render`), and the inbox renders at read time in the reader's language. The
snapshot, not the live objects, is what the message says, so delivery needs none of them.
Rows written before the snapshot kept their finished `title`/`body`; they are shown as stored.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SnapshotField(models.JSONField):
    """A JSONField whose bulk INSERT is a VALUES list: Django's PostgreSQL UNNEST form sends a
    jsonb[] that psycopg's client-side binding quotes element by element in Python, ten times
    slower for a batch of snapshots (bench/reminders.py). Same column, same migrations."""

    def get_placeholder(self, value, compiler, connection) -> str:
        return "%s"

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs


def new_message_id() -> str:
    """A stable RFC 5322 Message-ID: a delivery that repeats (at least once) repeats it too."""
    return f"<{uuid.uuid4().hex}@{settings.SITE_DOMAIN}>"


class OutboxMessage(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        SMS = "sms", _("text message")
        INAPP = "inapp", _("in-app")

    class State(models.TextChoices):
        PENDING = "pending", _("waiting to be sent")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped")

    channel = models.CharField(_("channel"), max_length=5, choices=Channel.choices)
    # None for an e-mail to an address that has no account yet (a guardian invitation).
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outbox_messages",
        verbose_name=_("recipient"),
    )
    # An e-mail address or an E.164 phone; never logged unmasked. Empty for in-app.
    address = models.CharField(_("address"), max_length=254, blank=True)
    kind = models.CharField(_("kind"), max_length=64)  # appointment.booked, reminder.24h, ...
    subject_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    subject_id = models.CharField(max_length=64)
    language = models.CharField(_("language"), max_length=10, blank=True)
    # The snapshot the renderer reads (notifications.render); {} on rows written before it.
    params = SnapshotField(_("parameters"), default=dict, blank=True)
    # Finished texts of rows written before the snapshot (and nothing on newer rows).
    title = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    # [{"name": "K7M2Q9.ics", "content": "BEGIN:VCALENDAR...", "method": "REQUEST"}, ...]
    attachments = SnapshotField(default=list, blank=True)
    # The text holds a credential (a one-time link): blanked once the message is sent, fails
    # for good or is skipped, so the outbox does not keep it readable.
    secret = models.BooleanField(_("holds a secret"), default=False)
    message_id = models.CharField(max_length=200, unique=True, default=new_message_id)
    state = models.CharField(_("state"), max_length=7, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # Past this moment the message is pointless (a reminder once the visit has begun): skipped.
    expires_at = models.DateTimeField(_("pointless after"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        constraints = [
            # One message per (subject, kind) for each recipient and channel: a job or a
            # receiver that runs twice writes nothing the second time.
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "kind", "account", "channel"],
                name="outbox_one_per_subject_kind_recipient_channel",
            ),
            # The same for a recipient known by address only (NULLs never collide above).
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "kind", "address", "channel"],
                condition=models.Q(account=None),
                name="outbox_one_per_subject_kind_address_channel",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="pending"),
                name="outbox_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.channel}, {self.state})"


class Notification(models.Model):
    """The in-app inbox (/me/notifications/)."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("account"),
    )
    # The outbox row it was delivered from: a repeated delivery finds it instead of a second one.
    source = models.OneToOneField(
        OutboxMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the inbox renders at read time, in the reader's language (notifications.render);
    # `title` and `body` keep the text as first delivered, for rows without a snapshot.
    kind = models.CharField(_("kind"), max_length=64, blank=True)
    params = SnapshotField(_("parameters"), default=dict, blank=True)
    title = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["account"], condition=models.Q(read_at=None), name="notification_unread"
            ),
            models.Index(fields=["account", "-created_at"], name="notification_inbox"),
        ]

    def __str__(self) -> str:
        return self.title
