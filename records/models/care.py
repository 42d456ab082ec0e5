"""Which staff may read a person's record and why (CareRelationship), and the referrals
that give such access (Referral)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.models.people import Patient


class CareRelationship(models.Model):
    """Why a staff account may read a person's record, and until when (DESIGN.md §3)."""

    class Reason(models.TextChoices):
        BOOKING = "booking", _("appointment")
        ENCOUNTER = "encounter", _("open encounter")
        REFERRAL = "referral", _("referral")
        BREAK_GLASS = "break_glass", _("emergency access")
        READING = "reading", _("exam reading")
        # Never a stored grant: records.access answers it while a renewal request waits for
        # this doctor (issue 20).
        RENEWAL = "renewal", _("repeat prescription request")
        FAMILY = "family", _("family-doctor signing")

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="care_relationships"
    )
    # The doctor's (or other clinician's) user account.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_relationships"
    )
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    starts_at = models.DateTimeField(_("from"), default=timezone.now)
    ends_at = models.DateTimeField(_("until"))
    source_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_id = models.CharField(max_length=64, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    source_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("care relationship")
        verbose_name_plural = _("care relationships")
        indexes = [
            models.Index(fields=["patient", "user", "ends_at"], name="care_live_idx"),
            # care_relationship_end finds the grants of one appointment or referral.
            models.Index(fields=["source_type", "source_id"], name="care_source_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="care_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} reads {self.patient_id} ({self.reason}) until {self.ends_at}"

    def is_live(self, at: dt.datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and self.starts_at <= at < self.ends_at


class Referral(models.Model):
    """A referral to a hospital or clinic (optionally a department or doctor). It lets the
    patient take referral places there; the record issue issues it from an encounter."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("issued")
        BOOKED = "booked", _("booked")
        COMPLETED = "completed", _("completed")
        EXPIRED = "expired", _("expired")
        CANCELLED = "cancelled", _("cancelled")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("patient")
    )
    to_hospital = models.ForeignKey(
        "hospitals.Hospital",
        on_delete=models.PROTECT,
        related_name="referrals_in",
        verbose_name=_("to hospital"),
    )
    to_department = models.ForeignKey(
        "hospitals.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals_in",
        verbose_name=_("to department"),
    )
    to_doctor = models.ForeignKey(
        "hospitals.Doctor",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals_in",
        verbose_name=_("to doctor"),
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # The encounter it was issued from: the receiving doctor reads its notes (DESIGN.md §1).
    encounter = models.ForeignKey(
        "Encounter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("from encounter"),
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    valid_until = models.DateTimeField(_("valid until"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ISSUED
    )

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"{self.patient} → {self.to_hospital} ({self.get_status_display()})"

    def is_usable(self, *, now: dt.datetime) -> bool:
        return self.status == self.Status.ISSUED and now < self.valid_until
