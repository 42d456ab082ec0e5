"""What a person agreed to (Consent) and who was invited to help (GuardianInvitation)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.models.people import Patient, Relationship


class ConsentKind(models.TextChoices):
    ID_AND_HEALTH_DATA = "id_and_health_data", _("Processing of ID and health data")
    # Without it a doctor sees only what their own hospital wrote (DESIGN.md §3).
    RECORD_SHARING = "record_sharing", _("Sharing the record across hospitals")
    # Needed to join an online consult.
    TELEMEDICINE = "telemedicine", _("Consults by video and chat")


class ConsentBehalf(models.TextChoices):
    SELF = "self", _("for themselves")
    GUARDIAN = "guardian", _("as guardian of a child under 14")
    FAMILY = "family", _("for a family member, with their agreement")


# Bump when the wording a person agrees to changes; each record keeps the version it saw.
CONSENT_TEXT_VERSIONS = {
    ConsentKind.ID_AND_HEALTH_DATA: "2026-11-v1",
    ConsentKind.RECORD_SHARING: "2026-11-v1",
    ConsentKind.TELEMEDICINE: "2026-11-v1",
}


# What each consent means, shown beside it wherever it is given or withdrawn.
CONSENT_SUMMARIES = {
    ConsentKind.ID_AND_HEALTH_DATA: _(
        "The platform keeps this person's ID number (encrypted) and health information to book "
        "care and keep their record. Without it no appointment can be booked for them."
    ),
    ConsentKind.RECORD_SHARING: _(
        "Doctors at every hospital that treats this person may read what the other hospitals "
        "wrote. Without it a doctor sees only what their own hospital wrote."
    ),
    ConsentKind.TELEMEDICINE: _(
        "This person may be seen by video and chat in online consults; the chat is kept in "
        "the record. Without it they cannot join an online consult."
    ),
}


class Consent(models.Model):
    """One separate, recorded consent (PIPL): who gave it, for whom, to which text, and when it
    was withdrawn."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(_("consent"), max_length=32, choices=ConsentKind.choices)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    on_behalf = models.CharField(_("given"), max_length=8, choices=ConsentBehalf.choices)
    text_version = models.CharField(max_length=32)
    given_at = models.DateTimeField(_("given at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "kind"],
                condition=Q(revoked_at__isnull=True),
                name="consent_one_live_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.patient_id}"


class GuardianInvitation(models.Model):
    """An invitation, sent by e-mail, for a second account to act for a person."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for an answer")
        ACCEPTED = "accepted", _("accepted")
        DECLINED = "declined", _("declined")
        REVOKED = "revoked", _("withdrawn")

    VALID_FOR = dt.timedelta(days=7)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(_("e-mail address"))
    relationship = models.CharField(
        _("their relationship to the person"),
        max_length=8,
        choices=[c for c in Relationship.choices if c[0] != Relationship.SELF],
    )
    can_book = models.BooleanField(_("may book appointments"), default=True)
    can_read_record = models.BooleanField(_("may read the record"), default=True)
    # SHA-256 of the single-use token in the e-mailed link; the token itself is never stored.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("guardian invitation")
        verbose_name_plural = _("guardian invitations")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email} for {self.patient_id} ({self.status})"

    def is_open(self, now: dt.datetime | None = None) -> bool:
        return self.status == self.Status.PENDING and (now or timezone.now()) < self.expires_at
