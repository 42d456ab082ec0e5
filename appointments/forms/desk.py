"""Forms of the front desk: the lookup by code (typed or scanned), and an adult taking over their
own record (DESIGN.md §3 "People")."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from records.idnumbers import parse_id_number

# A pasted link to the appointment page: /appointments/<code>/ anywhere in it.
_APPOINTMENT_LINK = re.compile(r"/appointments/([A-Za-z0-9-]{1,12})(?:[/.?#]|$)")


class DeskLookupForm(forms.Form):
    """The code as typed, scanned (a handheld scanner types it and presses Enter) or pasted
    as the link of the patient's appointment page."""

    code = forms.CharField(
        label=_("Appointment code"),
        max_length=300,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "autofocus": True,
                "spellcheck": "false",
            }
        ),
        error_messages={"required": _("Enter the code from the patient's confirmation.")},
    )

    def clean_code(self) -> str:
        value = self.cleaned_data["code"].strip()
        link = _APPOINTMENT_LINK.search(value)
        if link is not None:
            return link.group(1)
        if len(value) > 12:
            raise forms.ValidationError(
                _("This is not an appointment code. Scan the QR code or type the code again.")
            )
        return value


class DateInput(forms.DateInput):
    input_type = "date"


class UnechoedTextInput(forms.TextInput):
    """A page never shows an ID number in the clear, not even back in its own box after an
    error: the clerk types it again from the card."""

    def format_value(self, value):
        return None


class ClaimSelfForm(forms.Form):
    name = forms.CharField(label=_("Real name, as on the ID card"), max_length=60)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=22,
        widget=UnechoedTextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    birth_date = forms.DateField(label=_("Birth date"), widget=DateInput)
    account = forms.CharField(
        label=_("Their account: e-mail address or mobile number"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    card_checked = forms.BooleanField(
        label=_("I have checked the ID card in person, and its photo shows the person before me."),
        error_messages={"required": _("Check the ID card in person first.")},
    )

    def clean_id_number(self) -> str:
        return parse_id_number(self.cleaned_data["id_number"]).number
