"""Forms of the booking steps: confirm a period, join its waiting list, reschedule."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from records.models import Patient


class _PeopleReadOnce(ModelChoiceIterator):
    """The people of a form's select, read once per field: rendering a select asks for its
    choices twice (its first option, for `required`, then all of them), and Django's iterator
    queries each time."""

    def _rows(self) -> list:
        cached = self.field.__dict__.get("_people_read")
        if cached is None or cached[0] is not self.queryset:
            cached = self.field._people_read = (self.queryset, list(self.queryset))
        return cached[1]

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for person in self._rows():
            yield self.choice(person)

    def __len__(self) -> int:
        return len(self._rows()) + (self.field.empty_label is not None)

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(self._rows())


class PersonChoiceField(forms.ModelChoiceField):
    iterator = _PeopleReadOnce
    # The chosen person by id (a selector's one read), instead of the queryset's lookup: set
    # by the form that has one.
    lookup: Callable[[str], Patient | None] | None = None

    def label_from_instance(self, obj: Patient) -> str:
        return obj.name

    def to_python(self, value):
        if self.lookup is None or value in self.empty_values:
            return super().to_python(value)
        person = self.lookup(value)
        if person is None:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return person


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

    def __init__(self, *args, patients, lookup=None, **kwargs) -> None:
        """`lookup`: one of `patients` by id, or None (appointments.selectors.
        person_to_book_for), read instead of the queryset when the form is posted. `patients`
        may be None with a `lookup`: the caller sets the field's queryset before the form is
        shown."""
        super().__init__(*args, **kwargs)
        if patients is not None:
            self.fields["patient"].queryset = patients
        self.fields["patient"].lookup = lookup


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
