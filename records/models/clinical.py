"""The clinical record (issue 8): encounters, notes and addenda, allergies and problems,
drugs and prescriptions."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.models.people import Patient

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
        # 远程会诊: a cloud hospital specialist called in by a clinic's doctor; its notes are
        # the specialist's consult opinion.
        REMOTE = "remote", _("remote consultation")
        # 图文问诊: a question by text and photos, answered in a thread (telemedicine's
        # TextConsult); no notes of its own, the thread is the record.
        TEXT = "text", _("text consult")
        # 慢病续方: a repeat prescription the doctor signs from the renewal queue, without the
        # patient present (records.services.renewals); opened and closed in one step.
        RENEWAL = "renewal", _("repeat prescription")

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


class EncounterParticipant(models.Model):
    """Who took part in a remote consultation's encounter and when they first joined the room
    (the specialist, the clinic's doctor, the patient at home): shown on the consult's page in
    the record to the family and to both hospitals' staff."""

    class Role(models.TextChoices):
        SPECIALIST = "specialist", _("specialist")
        GP = "gp", _("clinic doctor")
        PATIENT = "patient", _("patient")

    encounter = models.ForeignKey(Encounter, on_delete=models.CASCADE, related_name="participants")
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("took part as"), max_length=10, choices=Role.choices)
    name = models.CharField(_("name"), max_length=120)
    joined_at = models.DateTimeField(_("joined"))

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["encounter", "account"], name="encounter_participant_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


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


# The ICD-10 blocks that make a problem chronic for repeat prescriptions (issue 20):
# hypertensive diseases I10–I15 and diabetes mellitus E10–E14.
CHRONIC_ICD10_BLOCKS = (("I", 10, 15), ("E", 10, 14))


def icd10_is_chronic(code: str) -> bool:
    code = (code or "").strip().upper()
    if len(code) < 3 or not code[1:3].isdigit():
        return False
    number = int(code[1:3])
    return any(
        code[0] == letter and low <= number <= high for letter, low, high in CHRONIC_ICD10_BLOCKS
    )


def chronic_condition(prefix: str = "") -> Q:
    """`Problem.is_chronic` as a query (`prefix` reaches the problem from another model): marked
    chronic by a doctor, or coded in CHRONIC_ICD10_BLOCKS (I10… to I15…, E10… to E14…)."""
    condition = Q(**{f"{prefix}marked_chronic": True})
    for letter, low, high in CHRONIC_ICD10_BLOCKS:
        for number in range(low, high + 1):
            condition |= Q(**{f"{prefix}icd10_code__istartswith": f"{letter}{number}"})
    return condition


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
    # A doctor's mark that this problem is chronic whatever its code (issue 20).
    marked_chronic = models.BooleanField(_("marked chronic"), default=False)

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return self.description

    @property
    def is_chronic(self) -> bool:
        """Chronic for repeat prescriptions: its ICD-10 code is in CHRONIC_ICD10_BLOCKS, or a
        doctor marked it so."""
        return self.marked_chronic or icd10_is_chronic(self.icd10_code)


class Drug(models.Model):
    """One entry of the formulary; the demo ships a small list. Controlled drugs are never
    prescribed in an online encounter."""

    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=160, blank=True)
    strength = models.CharField(_("strength"), max_length=60)
    form = models.CharField(_("form"), max_length=40, blank=True)
    is_controlled = models.BooleanField(_("controlled"), default=False)
    # A drug a chronic patient may have renewed online (慢病续方, issue 20).
    is_chronic_care = models.BooleanField(_("chronic care"), default=False)
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
    # The prescription this one renews (a repeat prescription, issue 20).
    prior = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewed_by",
        verbose_name=_("renews"),
    )

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
