"""Forms of the booking steps: confirm a period, join its waiting list, reschedule."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from records.models import Patient


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Patient) -> str:
        return obj.name


class ConfirmForm(forms.Form):
    patient = PersonChoiceField(
        label=_("Who is the appointment for?"),
        queryset=Patient.objects.none(),
        empty_label=None,
        error_messages={
            "invalid_choice": _("Choose one of the people you may book for."),
            "required": _("Choose who the appointment is for."),
        },
    )
    reason = forms.CharField(
        label=_("Reason for the visit (optional)"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("A few words for the doctor. It is never put in e-mails or calendars."),
    )
    # Carried from the page that showed the form: a double click or a retried request books
    # once (appointment_book returns the same appointment for the same key).
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, patients, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients


class WaitlistForm(forms.Form):
    patient = PersonChoiceField(
        label=_("Who is waiting?"),
        queryset=Patient.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of the people you may book for.")},
    )

    def __init__(self, *args, patients, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients


class RescheduleForm(forms.Form):
    slot = forms.TypedChoiceField(
        label=_("New time"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the new time."),
            "invalid_choice": _("That time is no longer free. Choose another."),
        },
    )

    def __init__(self, *args, choices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = choices
