"""The patient's search form."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.models import Mode
from appointments.selectors.search import SearchQuery
from hospitals.models import Doctor
from hospitals.when import format_day


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Doctor, department, specialty or hospital"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("e.g. dermatology, 皮肤科, Dr Zhou")}
        ),
    )
    date = forms.DateField(
        label=_("Date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date such as 2026-12-01.")},
    )
    part = forms.ChoiceField(
        label=_("Time of day"),
        required=False,
        choices=[
            ("", _("any time")),
            ("morning", _("morning (before 12:00)")),
            ("afternoon", _("afternoon (12:00–18:00)")),
            ("evening", _("evening (after 18:00)")),
        ],
        error_messages={"invalid_choice": _("Choose morning, afternoon or evening.")},
    )
    mode = forms.ChoiceField(
        label=_("How"),
        required=False,
        choices=[("", _("online or in person")), *Mode.choices],
        error_messages={"invalid_choice": _("Choose online or in person.")},
    )
    district = forms.ChoiceField(
        label=_("District"),
        required=False,
        error_messages={"invalid_choice": _("Choose a district from the list.")},
    )
    title = forms.ChoiceField(
        label=_("Title"),
        required=False,
        choices=[("", _("any title")), *Doctor.Title.choices],
        error_messages={"invalid_choice": _("Choose a title from the list.")},
    )

    def __init__(self, *args, districts: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = [("", _("all districts")), *districts]

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError(
                _("%(date)s has passed. Choose today or a later day."),
                code="past",
                params={"date": format_day(day)},
            )
        return day

    def search_query(self) -> SearchQuery:
        data = self.cleaned_data
        return SearchQuery(
            text=data["q"].strip(),
            day=data["date"],
            day_part=data["part"],
            mode=data["mode"],
            district=data["district"],
            title=data["title"],
        )
