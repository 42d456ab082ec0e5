"""Builders for the family-doctor tests: a clinic with a team (a GP with an account and a nurse
with the nurse role), a family with a person, and a signing made through the real service."""

from __future__ import annotations

from appointments.familydoctors.models import FamilyTeam
from appointments.familydoctors.services import signing_create, team_save
from tests.appointments.conftest import person
from tests.factories import (
    DepartmentFactory,
    DoctorFactory,
    HospitalFactory,
    StaffMembershipFactory,
    UserFactory,
)


def clinic_team(*, clinic=None, name: str = "幸福家医团队") -> FamilyTeam:
    clinic = clinic or HospitalFactory(kind="clinic")
    admin = StaffMembershipFactory(hospital=clinic, role="hospital_admin").user
    gp = DoctorFactory(department=DepartmentFactory(hospital=clinic), user=UserFactory())
    nurse = StaffMembershipFactory(hospital=clinic, role="nurse").user
    return team_save(
        clinic=clinic, by=admin, name=name, name_en="Happiness team", gp=gp, nurse=nurse
    )


def signed(team: FamilyTeam | None = None, **person_fields):
    """A person signed with `team` by their own account: (signing, account)."""
    team = team or clinic_team()
    patient, account = person(**person_fields)
    return signing_create(patient=patient, team=team, by=account, consent=True), account
