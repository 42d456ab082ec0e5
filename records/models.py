"""People: who receives care (Patient), which accounts act for them (PatientLink), what they
agreed to (Consent), who was invited to help (GuardianInvitation), and which staff may read their
record and why (CareRelationship). DESIGN.md §3 "People and the shared record"."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records import crypto
from records.idnumbers import FEMALE, MALE, mask_id_number

# Ages are counted on the calendar of the platform's city, whatever the server's zone.
AGE_ZONE = ZoneInfo("Asia/Shanghai")
CHILD_CONSENT_AGE = 14  # PIPL art. 31: a guardian consents for a child under 14
ADULT_AGE = 18


def age_on(birth_date: dt.date, day: dt.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


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


class ConsentKind(models.TextChoices):
    # record_sharing and telemedicine join here with the issues that need them.
    ID_AND_HEALTH_DATA = "id_and_health_data", _("Processing of ID and health data")


class ConsentBehalf(models.TextChoices):
    SELF = "self", _("for themselves")
    GUARDIAN = "guardian", _("as guardian of a child under 14")
    FAMILY = "family", _("for a family member, with their agreement")


# Bump when the wording a person agrees to changes; each record keeps the version it saw.
CONSENT_TEXT_VERSIONS = {ConsentKind.ID_AND_HEALTH_DATA: "2026-11-v1"}


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


class CareRelationship(models.Model):
    """Why a staff account may read a person's record, and until when (DESIGN.md §3)."""

    class Reason(models.TextChoices):
        BOOKING = "booking", _("appointment")
        ENCOUNTER = "encounter", _("open encounter")
        REFERRAL = "referral", _("referral")
        BREAK_GLASS = "break_glass", _("emergency access")

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
        indexes = [models.Index(fields=["patient", "user", "ends_at"], name="care_live_idx")]
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
