"""Calendar-feed tokens."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CalendarToken(models.Model):
    """A revocable secret for one calendar feed. Only a hash of the secret is stored, so a
    leaked database gives no working feed links. Every feed of the portal uses this model."""

    class Purpose(models.TextChoices):
        DOCTOR_SESSIONS = "doctor_sessions", _("a doctor's sessions")
        PERSONAL = "personal", _("my appointments")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calendar_tokens",
        verbose_name=_("owner"),
    )
    purpose = models.CharField(_("feed"), max_length=20, choices=Purpose.choices)
    doctor = models.ForeignKey(
        "hospitals.Doctor",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_tokens",
        verbose_name=_("doctor"),
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("issued"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed link")
        verbose_name_plural = _("calendar feed links")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(purpose="doctor_sessions") | Q(doctor__isnull=False),
                name="calendar_token_doctor_feed_names_doctor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} ({self.owner_id})"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None
