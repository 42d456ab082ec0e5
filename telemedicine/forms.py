from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from appointments.forms import PK_MAX
from appointments.models import Slot
from appointments.selectors import remote_periods_bookable
from hospitals.models import Department, Hospital
from hospitals.when import format_when


class CallNextForm(forms.Form):
    """The doctor's "Call next": `seen_last` is the appointment the page showed as called
    last (empty: nobody yet), so a double click or a second screen calls nobody twice."""

    seen_last = forms.IntegerField(required=False, min_value=1, max_value=PK_MAX)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The page only ever sends an id it showed, or nothing: anything else means we cannot
        # tell what the doctor saw, so nobody is called.
        message = _("The page was out of date: nobody was called. Look at the queue again.")
        self.fields["seen_last"].error_messages.update(
            dict.fromkeys(("invalid", "min_value", "max_value"), message)
        )


class SpecialistPeriodField(forms.ModelChoiceField):
    def label_from_instance(self, slot) -> str:
        when = format_when(slot.start, zone=slot.site.zone)
        return f"{when} · {slot.department.display_name} · {slot.doctor.display_name}"


class RemoteConsultationForm(forms.Form):
    """ "Consult a specialist" on a visit: a cloud hospital department (to narrow the periods
    shown), one remote-consultation period, the question, and whether the patient joins from
    their own device."""

    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("Every department"),
    )
    slot = SpecialistPeriodField(
        label=_("Specialist and time"),
        queryset=Slot.objects.none(),
        empty_label=None,
        error_messages={
            "required": _("Choose a specialist's period."),
            "invalid_choice": _("That period cannot be booked any more. Choose another one."),
        },
    )
    question = forms.CharField(
        label=_("Question for the specialist"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write the question for the specialist.")},
    )
    invite_patient = forms.BooleanField(
        label=_("The patient joins from their own device (at home)"), required=False
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args, department_id: int | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(
            hospital__kind=Hospital.Kind.CLOUD, hospital__is_active=True
        ).order_by("name")
        self.fields["slot"].queryset = remote_periods_bookable(department_id=department_id)


class TextOfferForm(forms.Form):
    """The doctor's text consult offer (图文问诊)."""

    is_open = forms.BooleanField(label=_("I take text consults"), required=False)
    price_note = forms.CharField(
        label=_("Price note"),
        required=False,
        max_length=120,
        help_text=_("Shown to the family before they ask, e.g. “¥30 per consult”."),
    )
    daily_limit = forms.IntegerField(label=_("Consults a day at most"), min_value=1, max_value=200)
