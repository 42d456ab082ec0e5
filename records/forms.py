from __future__ import annotations

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from records.idnumbers import parse_id_number
from records.models import GuardianInvitation, Relationship, Sex


class DateInput(forms.DateInput):
    input_type = "date"

    def format_value(self, value):
        return value.isoformat() if hasattr(value, "isoformat") else value


def clean_cn_mobile(value: str) -> str:
    """A mainland mobile number in E.164 (+8613812345678), or empty."""
    value = value.strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(_("Enter a valid mobile number, such as 138 1234 5678."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class LocalPathField(forms.CharField):
    """A path on this site ("/me/record/"), for where a form goes back to. Never a URL name
    (redirect() would look "18" up as one and fail), a scheme or another host."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 2000)
        super().__init__(**kwargs)

    def validate(self, value: str) -> None:
        super().validate(value)
        if value and not (
            value.startswith("/") and url_has_allowed_host_and_scheme(value, allowed_hosts=None)
        ):
            raise ValidationError(_("Not a page of this site."), code="not_local")


class PatientDetailsForm(forms.Form):
    name = forms.CharField(
        label=_("Real name"),
        max_length=60,
        help_text=_("As printed on the ID card."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=24,
        help_text=_("The 18-character number of the mainland resident ID card."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "inputmode": "text", "spellcheck": "false"}
        ),
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, widget=forms.RadioSelect)
    birth_date = forms.DateField(label=_("Birth date"), widget=DateInput)
    phone = forms.CharField(
        label=_("Mobile phone"),
        required=False,
        max_length=20,
        help_text=_("Optional; for a young child leave it empty."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )

    def clean_id_number(self) -> str:
        # Format and check digit are the number's own business: say exactly what is wrong.
        return parse_id_number(self.cleaned_data["id_number"]).number

    def clean_phone(self) -> str:
        return clean_cn_mobile(self.cleaned_data.get("phone", ""))


class PatientAddForm(PatientDetailsForm):
    relationship = forms.ChoiceField(
        label=_("This person is"), choices=Relationship.choices, initial=Relationship.CHILD
    )
    consent_id_and_health_data = forms.BooleanField(
        label=_(
            "I consent (for a child under 14, as their guardian) to the platform processing this "
            "person's ID number and health data to book and provide care."
        ),
        required=True,
        error_messages={
            "required": _("Without this consent the platform cannot register the person.")
        },
    )

    # Sex and birth date are what the ID number says (GB 11643): derived, then shown for the
    # person to confirm rather than asked (issue 19, item 5).
    sex = None
    birth_date = None
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    next = LocalPathField(widget=forms.HiddenInput)

    field_order = [
        "relationship",
        "name",
        "id_number",
        "phone",
        "consent_id_and_health_data",
    ]

    def clean(self) -> dict:
        cleaned = super().clean()
        number = cleaned.get("id_number")
        if number:
            facts = parse_id_number(number)
            cleaned["sex"], cleaned["birth_date"] = facts.sex, facts.birth_date
        return cleaned

    def details(self) -> dict:
        """What `records.services.patient_add` takes (the page's own fields left out)."""
        return {
            key: value
            for key, value in self.cleaned_data.items()
            if key not in ("confirmed", "next")
        }

    def sex_display(self) -> str:
        return Sex(self.cleaned_data["sex"]).label


class PatientEditForm(PatientDetailsForm):
    """The number is never filled in (it would be rendered); empty keeps the stored one."""

    def __init__(self, *args, masked_id: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["id_number"]
        field.required = False
        field.help_text = _(
            "Leave empty to keep %(masked)s; type the full number only to correct it."
        ) % {"masked": masked_id}

    def clean_id_number(self) -> str:
        if not self.cleaned_data.get("id_number", "").strip():
            return ""
        return super().clean_id_number()


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=_("Their e-mail address"),
        help_text=_("They accept with an account that uses this address."),
    )
    relationship = forms.ChoiceField(
        label=_("For them, this person is"),
        choices=GuardianInvitation._meta.get_field("relationship").choices,
    )
    can_book = forms.BooleanField(label=_("May book appointments"), required=False, initial=True)
    can_read_record = forms.BooleanField(
        label=_("May read the record"), required=False, initial=True
    )


class AttachmentForm(forms.Form):
    """A file for the record. Its type is decided from its bytes by records.attachments; the
    `accept` list only helps the browser's file picker."""

    title = forms.CharField(label=_("What is it?"), max_length=120, required=False)
    file = forms.FileField(
        label=_("File (PDF, JPEG or PNG)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"}
        ),
    )


class BreakGlassFindForm(forms.Form):
    id_number = forms.CharField(label=_("ID number"), max_length=18, strip=True)
    name = forms.CharField(label=_("Real name"), max_length=60, strip=True)


class BreakGlassOpenForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why do you need emergency access?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        help_text=_(
            "The patient and their family are told at once, with this reason. Every page you "
            "open is recorded."
        ),
    )


class ReturnPathsForm(forms.Form):
    """Where a form on a record page goes back to: `next`, the page it was on, and `refresh`,
    the address the clinical workspace reloads itself from."""

    next = LocalPathField()
    refresh = LocalPathField()


def return_paths(data) -> dict[str, str]:
    """The valid ones of `next` and `refresh`: a forged value is left out, and the caller's
    own default applies, as when none was sent (the form's hidden fields always send one)."""
    form = ReturnPathsForm(data)
    form.is_valid()
    return {name: value for name, value in form.cleaned_data.items() if value}
