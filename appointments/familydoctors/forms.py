"""The forms of family doctors: a clinic's team (console), the plan of a follow-up."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from appointments.familydoctors.models import FamilyTeam
from hospitals.models import Hospital, StaffMembership

# A default follow-up interval per chronic family (ICD-10 prefix → months).
DEFAULT_INTERVALS = {"I1": 3, "E1": 3}


class TeamForm(forms.ModelForm):
    class Meta:
        model = FamilyTeam
        fields = ["name", "name_en", "gp", "nurse", "is_active"]

    def __init__(self, *args, clinic: Hospital, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["gp"].queryset = clinic.doctors.filter(is_active=True).order_by("name")
        self.fields["nurse"].queryset = (
            get_user_model()
            .objects.filter(
                memberships__hospital=clinic, memberships__role=StaffMembership.Role.NURSE
            )
            .distinct()
            .order_by("name")
        )


class PlanForm(forms.Form):
    label = forms.CharField(label=_("What to follow"), max_length=120, required=False)
    problem = forms.ChoiceField(label=_("Problem"), required=False)
    interval_months = forms.TypedChoiceField(
        label=_("Every"),
        coerce=int,
        choices=[(n, _("%(n)d months") % {"n": n}) for n in (1, 2, 3, 6, 12)],
        initial=3,
    )

    def __init__(self, *args, problems=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.problems = {str(p.public_id): p for p in problems}
        self.fields["problem"].choices = [("", "—")] + [
            (str(p.public_id), f"{p.description} {p.icd10_code}".strip()) for p in problems
        ]
        for problem in problems:
            months = DEFAULT_INTERVALS.get(problem.icd10_code[:2].upper())
            if months:
                self.fields["interval_months"].initial = months
                break
