"""Exams and their results (issue 15): an exam a clinic records on a visit (an ECG, an X-ray,
an ultrasound, a lab panel) with its files and lab values, read by a specialist of a cloud
hospital department, signed once as a report.

Findings and impressions are clinical text like a note's (stored as notes are); the exam
names the hospital that recorded it (the clinic), which decides who sees it without the
sharing consent (records.access.RecordAccess.filter).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from records.models.attachments import Attachment
from records.models.clinical import Encounter
from records.models.people import Patient


class Exam(models.Model):
    """One exam of one visit and, once signed, its report (a DiagnosticReport in FHIR).

    registered → sent (to a department's reading queue) → claimed (by one of its specialists)
    → final; or registered → final when the clinic's own doctor signs it without a reading."""

    class Kind(models.TextChoices):
        ECG = "ecg", _("ECG")
        XRAY = "xray", _("X-ray")
        ULTRASOUND = "ultrasound", _("ultrasound")
        LAB = "lab", _("lab panel")

    class Status(models.TextChoices):
        REGISTERED = "registered", pgettext_lazy("exam status", "recorded")
        SENT = "sent", _("waiting for a reading")
        CLAIMED = "claimed", _("being read")
        FINAL = "final", _("report signed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    encounter = models.ForeignKey(
        Encounter, on_delete=models.PROTECT, related_name="exams", verbose_name=_("visit")
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="exams", verbose_name=_("patient")
    )
    # The hospital that recorded it (the visit's): its rows, for the sharing-consent scope.
    hospital = models.ForeignKey(
        "hospitals.Hospital", on_delete=models.PROTECT, related_name="+", verbose_name=_("hospital")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=120, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.REGISTERED
    )
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now, editable=False)
    files = models.ManyToManyField(Attachment, related_name="exams", blank=True)
    reading_department = models.ForeignKey(
        "hospitals.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exams_to_read",
        verbose_name=_("read by"),
    )
    question = models.CharField(_("question for the reader"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reader"),
    )
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    findings = models.TextField(_("findings"), blank=True, max_length=8000)
    impression = models.TextField(_("impression"), blank=True, max_length=4000)
    is_urgent = models.BooleanField(_("urgent"), default=False)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signed by"),
    )
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)

    class Meta:
        verbose_name = _("exam")
        verbose_name_plural = _("exams")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-created_at"], name="exam_patient_idx"),
            models.Index(fields=["reading_department", "status"], name="exam_queue_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="final", signed_at__isnull=False, signer__isnull=False)
                | (~Q(status="final") & Q(signed_at__isnull=True)),
                name="exam_final_is_signed",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["sent", "claimed"]) | Q(reading_department__isnull=False),
                name="exam_sent_has_department",
            ),
            models.CheckConstraint(
                condition=~Q(status="claimed") | Q(reader__isnull=False),
                name="exam_claimed_has_reader",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d} ({self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        return self.status == self.Status.FINAL


class Observation(models.Model):
    """One lab value of an exam, with its unit and reference range; flagged high or low."""

    class Flag(models.TextChoices):
        HIGH = "H", _("high")
        LOW = "L", _("low")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    exam = models.ForeignKey(
        Exam, on_delete=models.CASCADE, related_name="observations", verbose_name=_("exam")
    )
    code = models.CharField(_("code (LOINC)"), max_length=32, blank=True)
    name = models.CharField(_("test"), max_length=120)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=4)
    unit = models.CharField(_("unit"), max_length=24, blank=True)
    reference_low = models.DecimalField(
        _("reference low"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    reference_high = models.DecimalField(
        _("reference high"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("lab value")
        verbose_name_plural = _("lab values")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reference_low__isnull=True)
                | Q(reference_high__isnull=True)
                | Q(reference_low__lte=models.F("reference_high")),
                name="observation_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.value} {self.unit}"

    @property
    def flag(self) -> str:
        """H above the range, L below it, "" within it (or without a range)."""
        value = Decimal(self.value)
        if self.reference_high is not None and value > self.reference_high:
            return self.Flag.HIGH
        if self.reference_low is not None and value < self.reference_low:
            return self.Flag.LOW
        return ""

    @property
    def value_display(self) -> str:
        return format(Decimal(self.value).normalize(), "f")

    @property
    def range_display(self) -> str:
        def show(number: Decimal | None) -> str:
            return "" if number is None else format(Decimal(number).normalize(), "f")

        low, high = show(self.reference_low), show(self.reference_high)
        if low and high:
            return f"{low}–{high}"
        if low:
            return f"≥ {low}"
        if high:
            return f"≤ {high}"
        return ""
