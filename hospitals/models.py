"""The directory: hospitals, departments, doctors, who works where, and holiday calendars."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from hospitals.search_names import (
    names_for_department,
    names_for_doctor,
    names_for_hospital,
    pinyin_key,
    search_names_write,
)


def _with_sort_key(save_kwargs: dict) -> None:
    """A save of named fields that changes the name saves its pinyin sort key too."""
    fields = save_kwargs.get("update_fields")
    if fields is not None and "name" in fields:
        save_kwargs["update_fields"] = {*fields, "name_pinyin"}


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            _("%(value)s is not a time zone name such as Asia/Shanghai."), params={"value": value}
        ) from exc


class BilingualName(models.Model):
    """A Chinese name with an optional English one, shown in the active language. A subclass
    has a `name_pinyin` field, `search_names` rows (a SearchName table) and `searched_names()`."""

    # 名称 for a hospital or department; a doctor's name (姓名) is a person's, see Doctor.
    name = models.CharField(pgettext_lazy("hospital or department", "name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=160, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs) -> None:
        """The pinyin sort key (`name_pinyin`) and the searched names (the `search_names`
        rows, from `searched_names()`) follow the name on every save."""
        self.name_pinyin = pinyin_key(self.name)
        _with_sort_key(kwargs)
        super().save(*args, **kwargs)
        rows = self.search_names
        search_names_write(
            self, model=rows.model, field=rows.field.name, names=self.searched_names()
        )

    @property
    def display_name(self) -> str:
        language = get_language() or ""
        if language.startswith("en") and self.name_en:
            return self.name_en
        return self.name

    def searched_names(self) -> set[str]:
        raise NotImplementedError


class HolidayCalendar(models.Model):
    """Public holidays and make-up working days (调休); hospitals share one or keep their own."""

    name = models.CharField(_("name"), max_length=120, unique=True)

    class Meta:
        verbose_name = _("holiday calendar")
        verbose_name_plural = _("holiday calendars")

    def __str__(self) -> str:
        return self.name


class HolidayDate(models.Model):
    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("public holiday (no clinics)")
        WORKDAY = "workday", _("make-up working day")

    calendar = models.ForeignKey(
        HolidayCalendar, on_delete=models.CASCADE, related_name="dates", verbose_name=_("calendar")
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=80, blank=True)
    # A make-up working day runs the rota of this weekday (0 = Monday), as the notice says.
    follows_weekday = models.PositiveSmallIntegerField(
        _("runs the rota of"), null=True, blank=True, validators=[MaxValueValidator(6)]
    )

    class Meta:
        verbose_name = _("holiday or make-up day")
        verbose_name_plural = _("holidays and make-up days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="holiday_date_unique"),
            models.CheckConstraint(
                condition=Q(kind="workday", follows_weekday__isnull=False)
                | Q(kind="holiday", follows_weekday__isnull=True),
                name="holiday_workday_follows_a_weekday",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}".strip()


class Hospital(BilingualName):
    class Kind(models.TextChoices):
        CLOUD = "cloud", _("cloud hospital")
        HOSPITAL = "hospital", _("hospital")
        CLINIC = "clinic", _("community clinic")

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    district = models.CharField(_("district"), max_length=40, blank=True)
    district_en = models.CharField(_("district (English)"), max_length=60, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    address_en = models.CharField(_("address (English)"), max_length=240, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_timezone]
    )
    holiday_calendar = models.ForeignKey(
        HolidayCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hospitals",
        verbose_name=_("holiday calendar"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Lists show hospitals by this number where an admin set one, then by the name's pinyin.
    display_order = models.PositiveSmallIntegerField(_("order in lists"), null=True, blank=True)
    name_pinyin = models.CharField(max_length=400, blank=True, editable=False)

    # Booking policy (DESIGN.md §3), each with a default a hospital may change.
    booking_horizon_days = models.PositiveSmallIntegerField(
        _("public places open this many days ahead"), default=14
    )
    release_time = models.TimeField(_("daily release time"), default=dt.time(12, 0))
    referral_head_start_days = models.PositiveSmallIntegerField(
        _("referral places open this many days before public ones"), default=14
    )
    referral_merge_hours = models.PositiveSmallIntegerField(
        _("unused referral places join the public pool this many hours before the slot"),
        default=24,
    )
    cancellation_cutoff_hours = models.PositiveSmallIntegerField(
        _("patients may cancel until this many hours before the slot"), default=2
    )
    no_show_limit = models.PositiveSmallIntegerField(
        _("no-shows in 90 days that block booking"), default=3
    )
    no_show_block_days = models.PositiveSmallIntegerField(_("block length in days"), default=30)
    monthly_cap_per_account = models.PositiveSmallIntegerField(
        _("bookings a month per account"), default=8
    )
    monthly_cap_per_phone = models.PositiveSmallIntegerField(
        _("bookings a month per verified phone"), default=8
    )

    class Meta:
        verbose_name = _("hospital")
        verbose_name_plural = _("hospitals")
        ordering = ["kind", models.F("display_order").asc(nulls_last=True), "name_pinyin", "name"]

    def searched_names(self) -> set[str]:
        return names_for_hospital(name=self.name, name_en=self.name_en)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local_day_bounds(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) of `day` in this hospital's zone: local midnight to local midnight, so
        23 or 25 hours on a day the clocks change."""
        start = dt.datetime.combine(day, dt.time.min, tzinfo=self.zone)
        return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=self.zone)

    def local_date(self, moment: dt.datetime) -> dt.date:
        """The date on this hospital's calendar at `moment`."""
        return moment.astimezone(self.zone).date()

    @property
    def display_district(self) -> str:
        language = get_language() or ""
        if language.startswith("en") and self.district_en:
            return self.district_en
        return self.district

    @property
    def display_address(self) -> str:
        language = get_language() or ""
        if language.startswith("en") and self.address_en:
            return self.address_en
        return self.address


class Department(BilingualName):
    class Sex(models.TextChoices):
        FEMALE = "female", _("female")
        MALE = "male", _("male")

    hospital = models.ForeignKey(
        Hospital, on_delete=models.CASCADE, related_name="departments", verbose_name=_("hospital")
    )
    slug = models.SlugField(_("slug"), max_length=60)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    # Eligibility: paediatrics by age, gynaecology by sex. Empty means everyone.
    min_age_years = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    max_age_years = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True)
    sex = models.CharField(_("only for"), max_length=6, choices=Sex.choices, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Other names patients search by, beside the common ones hospitals.search_names knows.
    aliases = models.CharField(
        _("other names"),
        max_length=200,
        blank=True,
        help_text=_("Other names patients search for, separated by spaces or commas."),
    )
    display_order = models.PositiveSmallIntegerField(_("order in lists"), null=True, blank=True)
    name_pinyin = models.CharField(max_length=400, blank=True, editable=False)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = [
            "hospital",
            models.F("display_order").asc(nulls_last=True),
            "name_pinyin",
            "name",
        ]
        constraints = [
            models.UniqueConstraint(fields=["hospital", "slug"], name="department_slug_unique"),
            models.CheckConstraint(
                condition=Q(min_age_years__isnull=True)
                | Q(max_age_years__isnull=True)
                | Q(min_age_years__lte=models.F("max_age_years")),
                name="department_age_range_ordered",
            ),
        ]

    def searched_names(self) -> set[str]:
        return names_for_department(name=self.name, name_en=self.name_en, aliases=self.aliases)


class Doctor(BilingualName):
    class Title(models.TextChoices):
        CHIEF = "chief", _("chief physician")
        ASSOCIATE_CHIEF = "associate_chief", _("associate chief physician")
        ATTENDING = "attending", _("attending physician")
        RESIDENT = "resident", _("resident physician")

    name = models.CharField(_("name"), max_length=120)
    # The account the doctor signs in with; a doctor may be listed before they accept an invite.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="doctor",
        verbose_name=_("account"),
    )
    hospital = models.ForeignKey(
        Hospital, on_delete=models.PROTECT, related_name="doctors", verbose_name=_("hospital")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="doctors", verbose_name=_("department")
    )
    title = models.CharField(_("title"), max_length=16, choices=Title.choices)
    specialties = models.CharField(_("specialties"), max_length=300, blank=True)
    specialties_en = models.CharField(_("specialties (English)"), max_length=400, blank=True)
    bio = models.TextField(_("biography"), blank=True)
    bio_en = models.TextField(_("biography (English)"), blank=True)
    photo = models.ImageField(_("photo"), upload_to="doctors/", blank=True)
    offers_online = models.BooleanField(_("offers online consults"), default=False)
    # Where the doctor sees patients in person: the waiting-room display shows it beside them.
    room = models.CharField(
        _("consulting room"),
        max_length=40,
        blank=True,
        help_text=_("Shown on the waiting-room display, e.g. 2楼 205诊室."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    name_pinyin = models.CharField(max_length=400, blank=True, editable=False)

    class Meta:
        verbose_name = _("doctor")
        verbose_name_plural = _("doctors")
        ordering = ["hospital", "department", "name_pinyin", "name"]

    def searched_names(self) -> set[str]:
        return names_for_doctor(
            name=self.name,
            name_en=self.name_en,
            specialties=self.specialties,
            specialties_en=self.specialties_en,
        )

    def clean(self) -> None:
        if (
            self.department_id
            and self.hospital_id
            and self.department.hospital_id != self.hospital_id
        ):
            raise ValidationError(
                {"department": _("Choose a department of the doctor's own hospital.")}
            )

    @property
    def display_specialties(self) -> str:
        language = get_language() or ""
        if language.startswith("en") and self.specialties_en:
            return self.specialties_en
        return self.specialties


class SearchName(models.Model):
    """One suffix of a lowercased name a search finds its owner by (hospitals.search_names):
    a word is found as the prefix of a row, through the `text` pattern index."""

    text = models.CharField(max_length=200)

    class Meta:
        abstract = True
        indexes = [
            models.Index(
                fields=["text"], name="%(class)s_text_idx", opclasses=["varchar_pattern_ops"]
            )
        ]

    def __str__(self) -> str:
        return self.text


class HospitalSearchName(SearchName):
    hospital = models.ForeignKey(Hospital, on_delete=models.CASCADE, related_name="search_names")


class DepartmentSearchName(SearchName):
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="search_names"
    )


class DoctorSearchName(SearchName):
    doctor = models.ForeignKey(Doctor, on_delete=models.CASCADE, related_name="search_names")

    class Meta:
        # The doctor's id rides in the index, so a word finds its doctors from the index
        # alone: at 2,000 doctors "3" is a prefix of 600 rows on 666 pages, and reading them
        # took 1.5 ms of a 4.7 ms search (0.13 ms from the index; bench/slot_search.py).
        indexes = [
            models.Index(
                fields=["text"],
                name="doctorsearchname_text_idx",
                opclasses=["varchar_pattern_ops"],
                include=["doctor"],
            )
        ]


class StaffMembership(models.Model):
    """Who may manage or work at which hospital, in which role."""

    class Role(models.TextChoices):
        HOSPITAL_ADMIN = "hospital_admin", _("hospital admin")
        DOCTOR = "doctor", _("doctor")
        FRONT_DESK = "front_desk", _("front desk")
        # A clinic's nurse: a member of its family-doctor teams (familydoctors), no Doctor row.
        NURSE = "nurse", _("nurse")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("account"),
    )
    hospital = models.ForeignKey(
        Hospital, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("hospital")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "hospital", "role"], name="staff_membership_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.hospital}"
