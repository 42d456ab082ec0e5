"""Repeat prescriptions for chronic patients (慢病续方, issue 20): the family asks to renew a
signed prescription of chronic-care drugs; the prescribing doctor (or, when that doctor is gone,
their department) approves it, changes it, or asks for a visit."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.models.clinical import Prescription, Problem
from records.models.people import Patient


class RenewalRequest(models.Model):
    """One request to renew `prescription` (the last one signed for these drugs).

    It waits in the queue of `doctor` while that doctor is active, otherwise in the queue of
    every active doctor of `department` (records.selectors_renewals.renewal_queue). Approved
    or changed, it names the new signed prescription (`renewed`, whose `prior` is
    `prescription`); declined, it carries the doctor's message and a link to book a visit."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for the doctor")
        APPROVED = "approved", _("renewed")
        CHANGED = "changed", _("renewed with changes")
        DECLINED = "declined", _("visit needed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="renewal_requests",
        verbose_name=_("patient"),
    )
    prescription = models.ForeignKey(
        Prescription,
        on_delete=models.PROTECT,
        related_name="renewal_requests",
        verbose_name=_("prescription to renew"),
    )
    problem = models.ForeignKey(
        Problem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("chronic problem"),
    )
    # Whose queue: the prescribing doctor, and their department when the doctor is gone.
    doctor = models.ForeignKey(
        "hospitals.Doctor",
        on_delete=models.PROTECT,
        related_name="renewal_requests",
        verbose_name=_("doctor"),
    )
    department = models.ForeignKey(
        "hospitals.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewal_requests",
        verbose_name=_("department"),
    )
    # The hospital that wrote the prescription: its rows, for the sharing-consent scope.
    hospital = models.ForeignKey(
        "hospitals.Hospital", on_delete=models.PROTECT, related_name="+", verbose_name=_("hospital")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note for the doctor"), max_length=500, blank=True)
    # The family's language when it asked: the doctor's answer is texted in it.
    language = models.CharField(max_length=10, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("asked"), default=timezone.now, editable=False)
    decided_at = models.DateTimeField(_("answered"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    message = models.CharField(_("doctor's message"), max_length=500, blank=True)
    renewed = models.OneToOneField(
        Prescription,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewal_request",
        verbose_name=_("new prescription"),
    )

    class Meta:
        verbose_name = _("renewal request")
        verbose_name_plural = _("renewal requests")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "doctor"], name="renewal_queue_doctor_idx"),
            models.Index(fields=["status", "department"], name="renewal_queue_dept_idx"),
            models.Index(fields=["patient", "-created_at"], name="renewal_patient_idx"),
        ]
        constraints = [
            # One pending request at a time per prescription.
            models.UniqueConstraint(
                fields=["prescription"],
                condition=Q(status="pending"),
                name="renewal_one_pending_per_prescription",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="renewal_decided_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "changed"]) | Q(renewed__isnull=False),
                name="renewal_approved_has_prescription",
            ),
        ]

    def __str__(self) -> str:
        return f"renewal {self.public_id} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING
