"""Forms of the hospital admin console's schedule pages (rota, closures, the day view), and the
revoking of a calendar-feed link (the console's and the patient's)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from appointments.models import Closure, Mode, ScheduleRule, Weekday
from hospitals.models import Department, Doctor, Hospital

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
# The largest primary key (BigAutoField): a larger number names no row, so it is not an id.
PK_MAX = 2**63 - 1


class RowChoiceForm(forms.Form):
    """The row a button names, by id (a revoke button). Only its shape is checked here (a
    number that can be a primary key); whether the row is the caller's is the view's 404.
    A subclass says, in `unknown_message`, what to choose instead."""

    unknown_message = ""
    token = forms.IntegerField(min_value=1, max_value=PK_MAX)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # One sentence for every way the id can be wrong: the button always sends a good one,
        # so anything else was typed or forged and needs no finer diagnosis.
        self.fields["token"].error_messages.update(
            dict.fromkeys(("required", "invalid", "min_value", "max_value"), self.unknown_message)
        )


class FeedLinkRevokeForm(RowChoiceForm):
    unknown_message = _("Choose a feed link from the list to revoke.")


class ScheduleRuleForm(forms.Form):
    """A rota line; the service does the checks that need the database (overlaps, sites)."""

    weekday = forms.TypedChoiceField(
        label=capfirst(_("weekday")), choices=Weekday.choices, coerce=int
    )
    start_time = forms.TimeField(
        label=capfirst(_("starts at")),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    end_time = forms.TimeField(
        label=capfirst(_("ends at")), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    slot_minutes = forms.IntegerField(
        label=capfirst(_("slot length (minutes)")), min_value=5, max_value=240, initial=30
    )
    public_places = forms.IntegerField(
        label=capfirst(_("public places per slot")), min_value=0, max_value=500, initial=3
    )
    referral_places = forms.IntegerField(
        label=capfirst(_("referral places per slot")), min_value=0, max_value=500, initial=0
    )
    site = forms.ModelChoiceField(label=capfirst(_("site")), queryset=Hospital.objects.none())
    mode = forms.ChoiceField(
        label=capfirst(_("mode")), choices=Mode.choices, initial=Mode.IN_PERSON
    )
    fee = forms.DecimalField(
        label=capfirst(_("fee (yuan)")), min_value=Decimal(0), max_digits=8, decimal_places=2
    )
    valid_from = forms.DateField(
        label=capfirst(_("valid from")),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    valid_until = forms.DateField(
        label=capfirst(_("valid until")),
        required=False,
        help_text=_("Leave empty for a rota line without an end."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, doctor: Doctor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Hospital.objects.filter(
            Q(pk=doctor.hospital_id) | Q(kind=Hospital.Kind.CLOUD, is_active=True)
        ).order_by("kind", "name")
        self.fields["site"].initial = doctor.hospital_id

    @classmethod
    def initial_from(cls, rule: ScheduleRule) -> dict:
        return {name: getattr(rule, name) for name in cls.base_fields}


class ClosureForm(forms.Form):
    scope = forms.ChoiceField(
        label=capfirst(_("what is closed")), choices=Closure.Scope.choices, widget=forms.RadioSelect
    )
    doctor = forms.ModelChoiceField(
        label=capfirst(_("doctor")), queryset=Doctor.objects.none(), required=False
    )
    department = forms.ModelChoiceField(
        label=capfirst(_("department")), queryset=Department.objects.none(), required=False
    )
    starts_at = forms.DateTimeField(
        label=capfirst(_("from")),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    ends_at = forms.DateTimeField(
        label=capfirst(_("until")),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    reason = forms.CharField(
        label=capfirst(_("reason")),
        max_length=200,
        help_text=_("Patients whose appointments are cancelled read this."),
    )

    def __init__(self, *args, hospital: Hospital, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.hospital = hospital
        # Pinyin order (the models' default), not code point.
        self.fields["doctor"].queryset = Doctor.objects.filter(
            hospital=hospital, is_active=True
        ).order_by("name_pinyin", "name")
        self.fields["department"].queryset = Department.objects.filter(hospital=hospital).order_by(
            "name_pinyin", "name"
        )

    def clean(self) -> dict:
        data = super().clean()
        scope = data.get("scope")
        if scope == Closure.Scope.DOCTOR and not data.get("doctor"):
            self.add_error("doctor", _("Choose the doctor to close."))
        if scope == Closure.Scope.DEPARTMENT and not data.get("department"):
            self.add_error("department", _("Choose the department to close."))
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("The closure must end after it starts."))
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        scope = data["scope"]
        return {
            "scope": scope,
            "doctor": data["doctor"] if scope == Closure.Scope.DOCTOR else None,
            "department": data["department"] if scope == Closure.Scope.DEPARTMENT else None,
            "hospital": self.hospital if scope == Closure.Scope.HOSPITAL else None,
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
        }


def parse_day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(_("Not a date.")) from exc
