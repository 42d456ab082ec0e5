"""The desk's form for an adult taking over their own record (DESIGN.md §3 "People")."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from records.idnumbers import parse_id_number


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
