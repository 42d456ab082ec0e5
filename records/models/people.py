"""People and the accounts that act for them: Patient, PatientLink, and the age rules."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records import crypto
from records.idnumbers import FEMALE, MALE, mask_id_number

AGE_ZONE = ZoneInfo("Asia/Shanghai")
CHILD_CONSENT_AGE = 14  # PIPL art. 31: a guardian consents for a child under 14
ADULT_AGE = 18


def age_on(birth_date: dt.date, day: dt.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def names_match(a: str, b: str) -> bool:
    """The same real name as typed twice: spaces and letter case do not count."""
    return "".join(a.split()).casefold() == "".join(b.split()).casefold()


def today_in_city() -> dt.date:
    return timezone.now().astimezone(AGE_ZONE).date()


class Sex(models.TextChoices):
    MALE = MALE, _("male")
    FEMALE = FEMALE, _("female")


class Patient(models.Model):
    """A person who receives care; one per real person on the platform (by ID number)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("real name"), max_length=60)
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    # Fernet token; the ID number itself is never stored in the clear.
    id_number_encrypted = models.TextField(editable=False)
    # HMAC-SHA256 of the normalised number under RECORDS_HASH_KEY: one person, one row.
    id_number_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The only form that is ever shown: 330203********1234.
    id_number_masked = models.CharField(_("ID number"), max_length=18, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")

    def __str__(self) -> str:
        return f"{self.name} ({self.id_number_masked})"

    def get_absolute_url(self) -> str:
        return reverse("patient_detail", args=[self.public_id])

    def set_id_number(self, number: str) -> None:
        self.id_number_encrypted = crypto.encrypt_id_number(number)
        self.id_number_hash = crypto.id_number_hash(number)
        self.id_number_masked = mask_id_number(number)

    @property
    def id_number(self) -> str:
        """The clear number, for the few places that must compare it; never render it."""
        return crypto.decrypt_id_number(self.id_number_encrypted)

    def age(self, on: dt.date | None = None) -> int:
        return age_on(self.birth_date, on or today_in_city())

    def needs_guardian_consent(self, on: dt.date | None = None) -> bool:
        return self.age(on) < CHILD_CONSENT_AGE


class Relationship(models.TextChoices):
    SELF = "self", _("myself")
    CHILD = "child", _("my child")
    PARENT = "parent", _("my parent")
    SPOUSE = "spouse", _("my spouse")
    OTHER = "other", _("another family member")


class LiveLinkQuerySet(models.QuerySet):
    def live(self) -> LiveLinkQuerySet:
        return self.filter(revoked_at__isnull=True)


class PatientLink(models.Model):
    """An account acting for a person: how they are related and what the account may do."""

    MAX_PER_ACCOUNT = 6

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="links")
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="patient_links"
    )
    relationship = models.CharField(_("relationship"), max_length=8, choices=Relationship.choices)
    can_book = models.BooleanField(_("may book appointments"), default=True)
    can_read_record = models.BooleanField(_("may read the record"), default=True)
    # The account that registered the person (or took them over) manages them: it edits,
    # invites a second guardian and revokes links.
    is_manager = models.BooleanField(_("manages this person"), default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = LiveLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("patient link")
        verbose_name_plural = _("patient links")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "account"],
                condition=Q(revoked_at__isnull=True),
                name="patientlink_one_live_per_account",
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(revoked_at__isnull=True, is_manager=True),
                name="patientlink_one_live_manager",
            ),
            # An account is "myself" for one person only, and a person is one account's self.
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(revoked_at__isnull=True, relationship="self"),
                name="patientlink_one_self_per_account",
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(revoked_at__isnull=True, relationship="self"),
                name="patientlink_one_self_per_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} → {self.patient} ({self.relationship})"
