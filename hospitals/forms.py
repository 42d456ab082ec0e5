from __future__ import annotations

from allauth.account.adapter import get_adapter
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hospitals.models import Department, Doctor, Hospital
from hospitals.services import DEPARTMENT_FIELDS


class DepartmentForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = list(DEPARTMENT_FIELDS)  # what department_create/update accept
        labels = {"name": _("Name")}
        help_texts = {
            "slug": _("Used in the address, e.g. dermatology. Letters, digits and hyphens."),
            "min_age_years": _("Leave empty when patients of any age may book."),
            "sex": _("Leave empty when anyone may book."),
            "display_order": _(
                "Lower numbers come first in lists; leave empty to list by name (pinyin order)."
            ),
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "description_en": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, hospital: Hospital, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance.hospital = hospital
        self.fields["sex"].choices = [("", _("everyone")), *Department.Sex.choices]

    def clean(self):
        cleaned = super().clean()
        slug = cleaned.get("slug")
        taken = self.instance.hospital.departments.filter(slug=slug).exclude(pk=self.instance.pk)
        if slug and taken.exists():
            self.add_error("slug", _("Another department of this hospital uses this address."))
        low, high = cleaned.get("min_age_years"), cleaned.get("max_age_years")
        if low is not None and high is not None and low > high:
            self.add_error("max_age_years", _("The maximum age must not be below the minimum."))
        return cleaned


class DoctorForm(forms.ModelForm):
    class Meta:
        model = Doctor
        fields = [
            "name",
            "name_en",
            "department",
            "title",
            "specialties",
            "specialties_en",
            "bio",
            "bio_en",
            "offers_online",
            "room",
        ]
        labels = {"name": pgettext_lazy("person", "Name")}
        help_texts = {
            "specialties": _("Separate them with commas, e.g. 湿疹, 痤疮."),
        }
        widgets = {
            "bio": forms.Textarea(attrs={"rows": 4}),
            "bio_en": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, hospital: Hospital, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance.hospital = hospital
        self.fields["department"].queryset = hospital.departments.filter(is_active=True)


def _phone_field(**kwargs) -> forms.Field:
    # The site's phone field comes through allauth's adapter, so hospitals need not import it.
    return get_adapter().phone_form_field(required=False, **kwargs)


class DoctorAddForm(DoctorForm):
    email = forms.EmailField(
        label=_("E-mail (optional)"),
        required=False,
        help_text=_("Give it to send the doctor an invitation to set up their account."),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone"] = _phone_field(
            help_text=_("Needed with the e-mail when the doctor has no account yet.")
        )


class DoctorInviteForm(forms.Form):
    email = forms.EmailField(
        label=_("The doctor's e-mail"), widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone"] = _phone_field(
            help_text=_("Needed when the doctor has no account yet; confirmed by SMS later.")
        )


class HospitalFilterForm(forms.Form):
    district = forms.ChoiceField(label=_("District"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All kinds")), *list(Hospital.Kind.choices)],
    )

    def __init__(self, *args, districts: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = [("", _("All districts")), *districts]
