"""Slots (the time inventory the rota generates) and holds on their places."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.models.rota import Closure, Mode, ScheduleRule


class Slot(models.Model):
    """One time period of one doctor at one site in one mode, with two pools of places."""

    doctor = models.ForeignKey(
        "hospitals.Doctor", on_delete=models.PROTECT, related_name="slots", verbose_name=_("doctor")
    )
    site = models.ForeignKey(
        "hospitals.Hospital", on_delete=models.PROTECT, related_name="slots", verbose_name=_("site")
    )
    department = models.ForeignKey(
        "hospitals.Department",
        on_delete=models.PROTECT,
        related_name="slots",
        verbose_name=_("department"),
    )
    start = models.DateTimeField(_("starts"))
    end = models.DateTimeField(_("ends"))
    mode = models.CharField(_("mode"), max_length=9, choices=Mode.choices)
    capacity = models.PositiveSmallIntegerField(_("public places"))
    booked = models.PositiveSmallIntegerField(_("public places taken"), default=0)
    referral_capacity = models.PositiveSmallIntegerField(_("referral places"), default=0)
    referral_booked = models.PositiveSmallIntegerField(_("referral places taken"), default=0)
    release_at = models.DateTimeField(_("public places open"))
    referral_release_at = models.DateTimeField(_("referral places open"))
    referral_merge_at = models.DateTimeField(_("unused referral places join the public pool"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closure = models.ForeignKey(
        Closure,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="slots",
        verbose_name=_("closure"),
    )
    # Set when the rota no longer produces this slot but it holds bookings, so it stays
    # (DESIGN.md §3) and the console offers a Closure for it.
    orphaned_at = models.DateTimeField(_("no longer on the rota since"), null=True, blank=True)
    fee = models.DecimalField(_("fee (yuan)"), max_digits=8, decimal_places=2)
    rule = models.ForeignKey(
        ScheduleRule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="slots",
        verbose_name=_("rota session"),
    )

    class Meta:
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        ordering = ["start", "doctor_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(booked__gte=0, booked__lte=F("capacity")),
                name="slot_public_booked_within_capacity",
            ),
            models.CheckConstraint(
                condition=Q(referral_booked__gte=0, referral_booked__lte=F("referral_capacity")),
                name="slot_referral_booked_within_capacity",
            ),
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="slot_starts_before_end"),
            models.UniqueConstraint(fields=["doctor", "start", "mode"], name="slot_doctor_start"),
        ]
        indexes = [
            models.Index(fields=["site", "start"], name="slot_site_start_idx"),
            # FHIR's Slot search by time alone (start=ge…&start=lt…, no schedule), and search's
            # walk of a day's slots in (start, id) order, which stops after a page: the id
            # breaks the ties of the many periods that start at the same time.
            models.Index(fields=["start", "id"], name="slot_start_id_idx"),
            models.Index(fields=["department", "start"], name="slot_department_start_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.doctor_id} {self.start:%Y-%m-%d %H:%M} {self.mode}"

    @property
    def places_taken(self) -> int:
        return self.booked + self.referral_booked

    @property
    def places_total(self) -> int:
        return self.capacity + self.referral_capacity

    def public_places_left(self, *, now: dt.datetime) -> int:
        """Public places a patient without a referral may take now; after `referral_merge_at`
        the unused referral places count too."""
        left = self.capacity - self.booked
        if now >= self.referral_merge_at:
            left += self.referral_capacity - self.referral_booked
        return max(left, 0)

    def referral_places_left(self, *, now: dt.datetime) -> int:
        if now < self.referral_release_at:
            return 0
        return max(self.referral_capacity - self.referral_booked, 0)

    def is_bookable(self, *, now: dt.datetime, referral: bool = False) -> bool:
        """Whether a place of the right pool can be taken now: not started, not closed, and
        released for that pool (a referral may also take a released public place)."""
        if self.closed_at is not None or now >= self.start:
            return False
        public = self.public_places_left(now=now) if now >= self.release_at else 0
        if referral:
            return self.referral_places_left(now=now) > 0 or public > 0
        return public > 0


class Pool(models.TextChoices):
    """Which counter of the slot a place was taken from."""

    PUBLIC = "public", _("public place")
    REFERRAL = "referral", _("referral place")


class Hold(models.Model):
    """A place kept for a few minutes while the patient confirms. It counts in the slot's
    counter (`booked == active public appointments + live public holds`)."""

    class State(models.TextChoices):
        LIVE = "live", _("live")
        CONVERTED = "converted", _("booked")
        RELEASED = "released", _("released")

    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="holds")
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="holds"
    )
    pool = models.CharField(max_length=8, choices=Pool.choices, default=Pool.PUBLIC)
    referral = models.ForeignKey(
        "records.Referral", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=9, choices=State.choices, default=State.LIVE)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(state="live"), name="hold_one_live_per_account"
            ),
        ]
        indexes = [
            models.Index(fields=["expires_at"], condition=Q(state="live"), name="hold_live_expiry"),
        ]

    def __str__(self) -> str:
        return f"hold {self.pk} on {self.slot_id} ({self.state})"

    def is_live(self, *, now: dt.datetime) -> bool:
        return self.state == self.State.LIVE and now < self.expires_at
