"""Appointments and the waiting list (booking, issue 5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.models.desk import DeskQueue
from appointments.models.slots import Pool, Slot

ACTIVE_STATUSES = ("booked", "checked_in", "in_consult")


# What a Closure cancels: everything not yet under way (a consult in progress carries on).
CLOSURE_CANCELS_STATUSES = ("booked", "checked_in")


class Appointment(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", _("booked")
        CHECKED_IN = "checked_in", _("checked in")
        IN_CONSULT = "in_consult", _("in consultation")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")
        NO_SHOW = "no_show", _("no-show")

    class CancelReason(models.TextChoices):
        PATIENT = "patient", _("cancelled by the patient")
        HOSPITAL = "hospital", _("cancelled by the hospital")
        CLOSURE = "closure", _("clinic stopped")
        RESCHEDULED = "rescheduled", _("moved to another time")

    # Short, unambiguous, shown at the front desk and in the URL: /appointments/<code>/.
    code = models.CharField(_("appointment code"), max_length=12, unique=True)
    patient = models.ForeignKey(
        "records.Patient",
        on_delete=models.PROTECT,
        related_name="appointments",
        verbose_name=_("patient"),
    )
    slot = models.ForeignKey(
        Slot, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("time period")
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="appointments_booked",
        verbose_name=_("booked by"),
    )
    # Whose monthly caps this booking counts against: empty for a booking the account made for
    # a person it acts for (booked_by's caps); the person's managing account when clinic staff
    # booked on a visit (a remote consultation), so a doctor's account is never capped.
    cap_account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("counts against the caps of"),
    )
    pool = models.CharField(_("place"), max_length=8, choices=Pool.choices, default=Pool.PUBLIC)
    referral = models.ForeignKey(
        "records.Referral",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("referral"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.BOOKED
    )
    # Patient-written, shown to the doctor; never in .ics, e-mail subjects or logs.
    visit_reason = models.CharField(_("reason for the visit"), max_length=300, blank=True)
    cancel_reason = models.CharField(
        _("why cancelled"), max_length=12, choices=CancelReason.choices, blank=True
    )
    idempotency_key = models.CharField(max_length=64, blank=True)
    # The booking account's verified phone at booking time: the monthly cap per phone counts it,
    # so moving a number to another account does not reset the count.
    booked_phone = models.CharField(max_length=20, blank=True, editable=False)
    rescheduled_from = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="rescheduled_to"
    )
    # The record's side of this visit: opened at check-in (in person) or when the consult goes
    # live (online) by records.services.encounter_open.
    encounter = models.OneToOneField(
        "records.Encounter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointment",
        verbose_name=_("encounter"),
    )
    # RFC 5545 SEQUENCE: grows with every change the patient's calendar must learn of.
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("booked at"), default=timezone.now)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    # Given at an in-person check-in: the place in the doctor's queue of the day.
    queue = models.ForeignKey(
        DeskQueue,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("queue"),
    )
    queue_number = models.PositiveIntegerField(_("queue number"), null=True, blank=True)
    # When the doctor's "call next" called the patient in (the waiting-room display shows it).
    called_at = models.DateTimeField(_("called in at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # The offset (hours before the start) of the last reminder written: send_due_reminders
    # looks only at appointments with a smaller offset due.
    reminded_hours = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["slot__start"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "slot"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="appointment_one_active_per_patient_slot",
            ),
            models.UniqueConstraint(
                fields=["booked_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="appointment_idempotency_key_unique",
            ),
            models.UniqueConstraint(
                fields=["queue", "queue_number"],
                condition=Q(queue__isnull=False),
                name="appointment_one_queue_number",
            ),
            models.CheckConstraint(
                condition=Q(queue__isnull=True, queue_number__isnull=True)
                | Q(queue__isnull=False, queue_number__isnull=False),
                name="appointment_queue_and_number_together",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "status"], name="appointment_patient_status"),
            models.Index(fields=["slot", "status"], name="appointment_slot_status"),
            models.Index(
                fields=["booked_phone", "created_at"],
                condition=~Q(booked_phone=""),
                name="appointment_phone_month",
            ),
            models.Index(fields=["booked_by", "created_at"], name="appointment_account_month"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("appointment_detail", args=[self.code])

    @property
    def told_account(self):
        """Who hears about this booking: whoever booked it, or, when clinic staff booked on a
        visit, the person's managing account."""
        return self.cap_account or self.booked_by

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def queue_label(self) -> str:
        """A003, or "" before an in-person check-in. Needs `queue` loaded to avoid a query."""
        if self.queue_id is None or self.queue_number is None:
            return ""
        return self.queue.label(self.queue_number)


class WaitlistEntry(models.Model):
    """A patient waiting for a place in a full slot; promoted in order when one frees."""

    class State(models.TextChoices):
        WAITING = "waiting", _("waiting")
        PROMOTED = "promoted", _("booked from the waiting list")
        LEFT = "left", _("left the waiting list")
        EXPIRED = "expired", _("expired")

    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="waitlist")
    patient = models.ForeignKey("records.Patient", on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.WAITING)
    created_at = models.DateTimeField(default=timezone.now)
    appointment = models.OneToOneField(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("waiting-list entry")
        verbose_name_plural = _("waiting-list entries")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "patient"],
                condition=Q(state="waiting"),
                name="waitlist_one_waiting_per_patient_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"waiting for {self.slot_id} ({self.state})"
