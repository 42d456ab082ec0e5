"""Files in a person's record."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.models.clinical import Encounter
from records.models.people import Patient


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never carries the uploaded name (kept in original_name, for display).
    return f"attachments/{instance.patient.public_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A PDF, JPEG or PNG in a person's record. Stored through the storage API under
    MEDIA_ROOT (never the static root) and served only by a permission-checked view."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("patient")
    )
    encounter = models.ForeignKey(
        Encounter,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("encounter"),
    )
    # The hospital whose staff added it; None when the patient's own account uploaded it.
    hospital = models.ForeignKey(
        "hospitals.Hospital",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hospital"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=40)  # decided from the bytes, not the name
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    title = models.CharField(_("title"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("added"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.original_name
