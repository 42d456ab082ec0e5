"""The refusals of family-doctor signings and follow-ups: a stable code and a sentence."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class FamilyDoctorRefused(ValidationError):
    code = "refused"
    message = _("This cannot be done.")

    def __init__(self) -> None:
        super().__init__(self.message, code=self.code)


class NotAClinic(FamilyDoctorRefused):
    code = "not_clinic"
    message = _("Family-doctor teams belong to community clinics.")


class NotClinicStaff(FamilyDoctorRefused):
    code = "not_staff"
    message = _("Both members of a team must work at the team's clinic.")


class ConsentNeeded(FamilyDoctorRefused):
    code = "consent"
    message = _("Agree to the family-doctor signing to sign.")


class NotGuardian(FamilyDoctorRefused):
    code = "not_guardian"
    message = _("A child is signed by a parent or guardian.")


class AlreadySigned(FamilyDoctorRefused):
    code = "already_signed"
    message = _("This person already has a family-doctor team for this year.")


class TeamClosed(FamilyDoctorRefused):
    code = "team_closed"
    message = _("This team takes no new signings.")


class SigningNotLive(FamilyDoctorRefused):
    code = "not_live"
    message = _("This signing has ended.")


class IntervalInvalid(FamilyDoctorRefused):
    code = "interval"
    message = _("Choose a follow-up every 1 to 12 months.")


class NotTeamDoctor(FamilyDoctorRefused):
    code = "not_team_doctor"
    message = _("Only the team's doctor may book for the panel, at the team's clinic.")
