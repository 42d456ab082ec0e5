"""Family doctors (家庭医生签约, issue 20): a clinic's teams (a GP and a nurse), the signing of a
person with a team for a year, and the follow-up plans and tasks the team keeps for them.

The team reads the record of its panel through CareRelationship rows of reason `family`
whose source is the signing: they end at the signing's end date or when it is cancelled, as
every other grant ends with its reason (records/access.py).
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Bump when the text a family agrees to when signing changes; each signing keeps its version.
SIGNING_TEXT_VERSION = "2026-12-v1"
SIGNING_DAYS = 365


class FamilyTeam(models.Model):
    """A clinic's family-doctor team: one GP (a Doctor of the clinic) and optionally a nurse
    (a staff account of the clinic with the nurse role)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        "hospitals.Hospital",
        on_delete=models.PROTECT,
        related_name="family_teams",
        verbose_name=_("clinic"),
    )
    name = models.CharField(_("team name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    gp = models.ForeignKey(
        "hospitals.Doctor",
        on_delete=models.PROTECT,
        related_name="family_teams",
        verbose_name=_("general practitioner"),
    )
    nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="family_teams_as_nurse",
        verbose_name=_("nurse"),
    )
    is_active = models.BooleanField(_("takes new signings"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("family-doctor team")
        verbose_name_plural = _("family-doctor teams")
        ordering = ["clinic_id", "name", "id"]

    def __str__(self) -> str:
        return self.name

    def member_user_ids(self) -> list[int]:
        ids = [self.gp.user_id] if self.gp.user_id else []
        if self.nurse_id and self.nurse_id not in ids:
            ids.append(self.nurse_id)
        return ids


class FamilySigning(models.Model):
    """One person signed with one team from `starts_on` to `ends_on` (a year), with the
    consent the signer gave. One active signing per person (a partial unique index); an
    active signing past its end date is ended by the next signing or the sweep."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("signed")
        CANCELLED = "cancelled", _("cancelled")
        ENDED = "ended", _("ended")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "records.Patient", on_delete=models.PROTECT, related_name="family_signings"
    )
    team = models.ForeignKey(FamilyTeam, on_delete=models.PROTECT, related_name="signings")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    # The consent to the signing (PIPL): who gave it, how, to which text, when.
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    on_behalf = models.CharField(max_length=8)  # records.models.ConsentBehalf
    consent_text_version = models.CharField(max_length=32)
    signed_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("family-doctor signing")
        verbose_name_plural = _("family-doctor signings")
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="active"),
                name="family_signing_one_active_per_person",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gt=models.F("starts_on")), name="family_signing_ends_after"
            ),
        ]
        indexes = [models.Index(fields=["team", "status"], name="family_signing_team_idx")]

    def __str__(self) -> str:
        return f"{self.patient_id} with team {self.team_id} until {self.ends_on}"

    def is_live(self, on: dt.date) -> bool:
        return self.status == self.Status.ACTIVE and self.starts_on <= on <= self.ends_on


class FollowUpPlan(models.Model):
    """Every `interval_months` the team sees the person about one problem."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    signing = models.ForeignKey(FamilySigning, on_delete=models.CASCADE, related_name="plans")
    problem = models.ForeignKey(
        "records.Problem", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    label = models.CharField(_("what to follow"), max_length=120)
    interval_months = models.PositiveSmallIntegerField(_("every (months)"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("follow-up plan")
        verbose_name_plural = _("follow-up plans")
        constraints = [
            models.CheckConstraint(
                condition=Q(interval_months__gte=1, interval_months__lte=12),
                name="followup_interval_1_to_12",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} every {self.interval_months} months"


class FollowUpTask(models.Model):
    """One follow-up due on a date. The family is reminded once (`reminded_at`, set by the
    conditional UPDATE that claims the reminder); the team marks it done, with the visit when
    there was one."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(FollowUpPlan, on_delete=models.CASCADE, related_name="tasks")
    signing = models.ForeignKey(FamilySigning, on_delete=models.CASCADE, related_name="tasks")
    due_on = models.DateField(_("due"))
    reminded_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    encounter = models.ForeignKey(
        "records.Encounter", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("follow-up task")
        verbose_name_plural = _("follow-up tasks")
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(
                fields=["due_on"],
                condition=Q(reminded_at__isnull=True, done_at__isnull=True),
                name="followup_unreminded_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} due {self.due_on}"
