"""Time inventory: weekly rotas, the slots they generate, closures, and calendar-feed tokens."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Mode(models.TextChoices):
    IN_PERSON = "in_person", _("in person")
    ONLINE = "online", _("online")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class ScheduleRule(models.Model):
    """One line of a doctor's weekly rota: a session on one weekday, in local wall-clock time at
    the site, cut into slots of `slot_minutes`."""

    doctor = models.ForeignKey(
        "hospitals.Doctor",
        on_delete=models.CASCADE,
        related_name="schedule_rules",
        verbose_name=_("doctor"),
    )
    site = models.ForeignKey(
        "hospitals.Hospital",
        on_delete=models.PROTECT,
        related_name="schedule_rules",
        verbose_name=_("site"),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("starts at"))
    end_time = models.TimeField(_("ends at"))
    slot_minutes = models.PositiveSmallIntegerField(
        _("slot length (minutes)"),
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(240)],
    )
    public_places = models.PositiveSmallIntegerField(
        _("public places per slot"), default=3, validators=[MaxValueValidator(500)]
    )
    referral_places = models.PositiveSmallIntegerField(
        _("referral places per slot"), default=0, validators=[MaxValueValidator(500)]
    )
    mode = models.CharField(_("mode"), max_length=9, choices=Mode.choices, default=Mode.IN_PERSON)
    fee = models.DecimalField(
        _("fee (yuan)"), max_digits=8, decimal_places=2, validators=[MinValueValidator(0)]
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("rota session")
        verbose_name_plural = _("rota sessions")
        ordering = ["doctor", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_time__lt=F("end_time")), name="schedule_rule_starts_before_end"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="schedule_rule_weekday_range"
            ),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5), name="schedule_rule_slot_minutes_positive"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="schedule_rule_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.doctor} · {self.get_weekday_display()} "
            f"{self.start_time:%H:%M}–{self.end_time:%H:%M}"
        )

    def is_valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def slot_starts(self) -> list[dt.time]:
        """The local wall-clock start of every whole slot in the session."""
        step = dt.timedelta(minutes=self.slot_minutes)
        day = dt.date(2000, 1, 3)
        cursor = dt.datetime.combine(day, self.start_time)
        end = dt.datetime.combine(day, self.end_time)
        starts = []
        while cursor + step <= end:
            starts.append(cursor.time())
            cursor += step
        return starts


class Closure(models.Model):
    """Stop-clinic: a doctor, a department or a whole site is closed for a period."""

    class Scope(models.TextChoices):
        DOCTOR = "doctor", _("a doctor")
        DEPARTMENT = "department", _("a department")
        HOSPITAL = "hospital", _("the whole hospital")

    scope = models.CharField(_("what is closed"), max_length=10, choices=Scope.choices)
    doctor = models.ForeignKey(
        "hospitals.Doctor",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closures",
        verbose_name=_("doctor"),
    )
    department = models.ForeignKey(
        "hospitals.Department",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closures",
        verbose_name=_("department"),
    )
    hospital = models.ForeignKey(
        "hospitals.Hospital",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closures",
        verbose_name=_("hospital"),
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        scope="doctor",
                        doctor__isnull=False,
                        department__isnull=True,
                        hospital__isnull=True,
                    )
                    | Q(
                        scope="department",
                        doctor__isnull=True,
                        department__isnull=False,
                        hospital__isnull=True,
                    )
                    | Q(
                        scope="hospital",
                        doctor__isnull=True,
                        department__isnull=True,
                        hospital__isnull=False,
                    )
                ),
                name="closure_targets_exactly_its_scope",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="closure_starts_before_end"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.target} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def target(self):
        return self.doctor or self.department or self.hospital


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
            # FHIR's Slot search by time alone (start=ge…&start=lt…, no schedule).
            models.Index(fields=["start"], name="slot_start_idx"),
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


class CalendarToken(models.Model):
    """A revocable secret for one calendar feed. Only a hash of the secret is stored, so a
    leaked database gives no working feed links. Every feed of the portal uses this model."""

    class Purpose(models.TextChoices):
        DOCTOR_SESSIONS = "doctor_sessions", _("a doctor's sessions")
        PERSONAL = "personal", _("my appointments")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calendar_tokens",
        verbose_name=_("owner"),
    )
    purpose = models.CharField(_("feed"), max_length=20, choices=Purpose.choices)
    doctor = models.ForeignKey(
        "hospitals.Doctor",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_tokens",
        verbose_name=_("doctor"),
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("issued"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed link")
        verbose_name_plural = _("calendar feed links")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(purpose="doctor_sessions") | Q(doctor__isnull=False),
                name="calendar_token_doctor_feed_names_doctor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} ({self.owner_id})"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None


# --- Booking (issue 5) ----------------------------------------------------------------------


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


class DeskQueue(models.Model):
    """One doctor's queue at one site on one local day. Check-in hands out its numbers
    (A001, A002, …) with one upsert of `last_number` (appointments/queue.py), so two desks
    checking in at once never give out the same number."""

    doctor = models.ForeignKey(
        "hospitals.Doctor",
        on_delete=models.CASCADE,
        related_name="desk_queues",
        verbose_name=_("doctor"),
    )
    site = models.ForeignKey(
        "hospitals.Hospital",
        on_delete=models.CASCADE,
        related_name="desk_queues",
        verbose_name=_("site"),
    )
    day = models.DateField(_("day"))
    # Tells the doctors of one site apart on the waiting-room display: A…, B…
    letter = models.CharField(_("letter"), max_length=2)
    last_number = models.PositiveIntegerField(_("last number given"), default=0)

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        constraints = [
            models.UniqueConstraint(fields=["doctor", "site", "day"], name="desk_queue_one_a_day"),
        ]
        indexes = [models.Index(fields=["site", "day"], name="desk_queue_site_day")]

    def __str__(self) -> str:
        return f"{self.letter} {self.doctor_id} {self.day}"

    def label(self, number: int) -> str:
        return f"{self.letter}{number:03d}"


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
