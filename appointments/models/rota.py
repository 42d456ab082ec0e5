"""Weekly rotas and closures: what a doctor works when, and a stopped clinic."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Mode(models.TextChoices):
    IN_PERSON = "in_person", _("in person")
    ONLINE = "online", _("online")
    # 远程会诊: a specialist's period that clinic staff book for a patient on their visit.
    REMOTE = "remote", _("remote consultation")


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
