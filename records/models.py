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
from django.core.validators import RegexValidator
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


# --- The clinical record (issue 8) ----------------------------------------------------------
#
# Every clinical row names the hospital that wrote it, so that without the sharing consent a
# doctor is shown only their own hospital's rows (records.access.RecordAccess.hospital_ids).

ICD10_PATTERN = r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$"


class Encounter(models.Model):
    """One contact with care: an online consult or an in-person visit, at one hospital with one
    doctor. Opened when a consult goes live or at check-in; closed when the consult ends or the
    doctor completes the visit. The Appointment links to it (Appointment.encounter)."""

    class Mode(models.TextChoices):
        ONLINE = "online", _("online consult")
        IN_PERSON = "in_person", _("in-person visit")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="encounters", verbose_name=_("patient")
    )
    doctor = models.ForeignKey(
        "hospitals.Doctor",
        on_delete=models.PROTECT,
        related_name="encounters",
        verbose_name=_("doctor"),
    )
    hospital = models.ForeignKey(
        "hospitals.Hospital",
        on_delete=models.PROTECT,
        related_name="encounters",
        verbose_name=_("hospital"),
    )
    department = models.ForeignKey(
        "hospitals.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="encounters",
        verbose_name=_("department"),
    )
    mode = models.CharField(_("kind"), max_length=10, choices=Mode.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("encounter")
        verbose_name_plural = _("encounters")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["patient", "-started_at"], name="encounter_patient_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="encounter_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(status="open", ended_at__isnull=True)
                | Q(status="closed", ended_at__isnull=False),
                name="encounter_closed_has_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} {self.started_at:%Y-%m-%d} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class ClinicalNote(models.Model):
    """A SOAP note of one encounter. Drafts may be edited by their author; a signed note is
    never edited again (ClinicalNote.save refuses), corrections are NoteAddendum rows."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    encounter = models.ForeignKey(
        Encounter, on_delete=models.PROTECT, related_name="notes", verbose_name=_("encounter")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    subjective = models.TextField(_("subjective"), blank=True, max_length=8000)
    objective = models.TextField(_("objective"), blank=True, max_length=8000)
    assessment = models.TextField(_("assessment"), blank=True, max_length=8000)
    plan = models.TextField(_("plan"), blank=True, max_length=8000)
    diagnosis = models.CharField(_("diagnosis"), max_length=300, blank=True)
    icd10_code = models.CharField(
        _("ICD-10 code"),
        max_length=8,
        blank=True,
        validators=[RegexValidator(ICD10_PATTERN, _("Enter an ICD-10 code such as L20.9."))],
    )
    created_at = models.DateTimeField(_("written"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)

    class Meta:
        verbose_name = _("clinical note")
        verbose_name_plural = _("clinical notes")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note {self.public_id} ({'signed' if self.signed_at else 'draft'})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values_list("signed_at", flat=True)
            if stored and stored[0] is not None:
                raise ValueError("A signed note is never edited; add an addendum.")
        super().save(*args, **kwargs)

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class NoteAddendum(models.Model):
    """A correction or addition to a signed note, shown beside it; itself never edited."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    note = models.ForeignKey(
        ClinicalNote, on_delete=models.PROTECT, related_name="addenda", verbose_name=_("note")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    text = models.TextField(_("addendum"), max_length=4000)
    signed_at = models.DateTimeField(_("signed"), default=timezone.now)

    class Meta:
        verbose_name = _("addendum")
        verbose_name_plural = _("addenda")
        ordering = ["signed_at", "id"]

    def __str__(self) -> str:
        return f"addendum {self.public_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("An addendum is never edited.")
        super().save(*args, **kwargs)


class Allergy(models.Model):
    """A known allergy, editable by treating doctors; removal is a mark, never a delete."""

    class Severity(models.TextChoices):
        MILD = "mild", _("mild")
        MODERATE = "moderate", _("moderate")
        SEVERE = "severe", _("severe")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="allergies", verbose_name=_("patient")
    )
    substance = models.CharField(_("substance"), max_length=120)
    reaction = models.CharField(_("reaction"), max_length=200, blank=True)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    hospital = models.ForeignKey(
        "hospitals.Hospital", on_delete=models.PROTECT, related_name="+", verbose_name=_("hospital")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("allergy")
        verbose_name_plural = _("allergies")
        ordering = ["substance", "id"]

    def __str__(self) -> str:
        return self.substance


class Problem(models.Model):
    """A standing problem (a chronic condition), editable by treating doctors."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="problems", verbose_name=_("patient")
    )
    description = models.CharField(_("problem"), max_length=200)
    icd10_code = models.CharField(
        _("ICD-10 code"),
        max_length=8,
        blank=True,
        validators=[RegexValidator(ICD10_PATTERN, _("Enter an ICD-10 code such as L20.9."))],
    )
    hospital = models.ForeignKey(
        "hospitals.Hospital", on_delete=models.PROTECT, related_name="+", verbose_name=_("hospital")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return self.description


class Drug(models.Model):
    """One entry of the formulary; the demo ships a small list. Controlled drugs are never
    prescribed in an online encounter."""

    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=160, blank=True)
    strength = models.CharField(_("strength"), max_length=60)
    form = models.CharField(_("form"), max_length=40, blank=True)
    is_controlled = models.BooleanField(_("controlled"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("drug")
        verbose_name_plural = _("drugs")
        ordering = ["name", "strength"]
        constraints = [
            models.UniqueConstraint(fields=["name", "strength"], name="drug_name_strength_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.strength}"


class Prescription(models.Model):
    """A prescription written in one encounter; signed once, then read-only like a note."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    encounter = models.ForeignKey(
        Encounter,
        on_delete=models.PROTECT,
        related_name="prescriptions",
        verbose_name=_("encounter"),
    )
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("written"), default=timezone.now, editable=False)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)

    class Meta:
        verbose_name = _("prescription")
        verbose_name_plural = _("prescriptions")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"prescription {self.public_id}"


class PrescriptionItem(models.Model):
    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="items")
    drug = models.ForeignKey(
        Drug, on_delete=models.PROTECT, related_name="+", verbose_name=_("drug")
    )
    dose = models.CharField(_("dose"), max_length=60)
    frequency = models.CharField(_("frequency"), max_length=60)
    days = models.PositiveSmallIntegerField(_("days"))
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("prescription item")
        verbose_name_plural = _("prescription items")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(days__gte=1, days__lte=90), name="rx_item_days"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="rx_item_quantity"),
        ]

    def __str__(self) -> str:
        return f"{self.drug} {self.dose} {self.frequency} × {self.days}d"


def _attachment_path(instance: Attachment, filename: str) -> str:
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
    file = models.FileField(upload_to=_attachment_path, max_length=200)
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
