"""Demo data for family doctors: a team at Yuehu community clinic with its GP (卢欣然), and
the grandmother 赵桂兰 signed with it by her daughter with her hypertension followed every
three months (DESIGN.md §1, step 9). Idempotent."""

from __future__ import annotations

from appointments.familydoctors.models import FamilySigning, FamilyTeam
from appointments.familydoctors.services import followup_plan_set, signing_create, team_save
from hospitals.models import Doctor, Hospital
from records.models import PatientLink, Problem


def seed_family_teams(*, accounts: dict) -> int:
    """Returns how many teams were created."""
    clinic = Hospital.objects.filter(slug="yuehu-clinic").first()
    gp = Doctor.objects.filter(hospital=clinic, name="卢欣然").first() if clinic else None
    if clinic is None or gp is None:
        return 0
    team = FamilyTeam.objects.filter(clinic=clinic).first()
    created = 0
    if team is None:
        team = team_save(
            clinic=clinic, by=None, name="月湖家庭医生一队", name_en="Yuehu family team 1", gp=gp
        )
        created = 1
    account = accounts.get("patient@demo.test")
    link = (
        PatientLink.objects.live().filter(account=account, patient__name="赵桂兰").first()
        if account
        else None
    )
    if link is None or FamilySigning.objects.filter(patient=link.patient).exists():
        return created
    signing = signing_create(patient=link.patient, team=team, by=account, consent=True)
    problem = Problem.objects.filter(patient=link.patient, icd10_code__startswith="I1").first()
    if gp.user is not None:
        followup_plan_set(
            signing=signing,
            by=gp.user,
            interval_months=3,
            label="" if problem else "血压随访",
            problem=problem,
        )
    return created
