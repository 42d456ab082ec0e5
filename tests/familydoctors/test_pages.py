"""The family-doctor pages (issue 20): the family signs and cancels; the team sees its panel
(a pinned number of queries whatever its size), plans follow-ups and books for a member;
another team's panel, member or task is a 404; the clinic admin manages teams."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from appointments.errors import MonthlyCapAccount
from appointments.familydoctors.models import FamilySigning, FamilyTeam, FollowUpTask
from appointments.familydoctors.services import followup_plan_set, panel_book
from appointments.models import Appointment, Slot
from appointments.policies import check_monthly_caps
from records.models import Problem
from tests.appointments.conftest import open_slot, person
from tests.conftest import with_totp
from tests.factories import DoctorFactory, StaffMembershipFactory, UserFactory
from tests.familydoctors.conftest import clinic_team, signed
from tests.records.renewals import chronic_drug, signed_prescription

pytestmark = pytest.mark.django_db


def _staff_client(client, user):
    with_totp(user)
    client.force_login(user)
    return client


def test_the_family_signs_a_child_with_a_team_and_cancels(client):
    team = clinic_team()
    child, parent = person(relationship="child", birth_date=dt.date(2019, 5, 1))
    client.force_login(parent)
    page = client.get("/me/family-doctor/")
    assert page.status_code == 200 and team.name in page.content.decode()
    refused = client.post(
        "/me/family-doctor/", {"patient": child.public_id, "team": team.public_id}
    )
    assert refused.status_code == 400 and not FamilySigning.objects.exists()
    done = client.post(
        "/me/family-doctor/",
        {"patient": child.public_id, "team": team.public_id, "consent": "yes"},
    )
    assert done.status_code == 302
    signing = FamilySigning.objects.get(patient=child)
    assert signing.on_behalf == "guardian"
    assert client.post(f"/me/family-doctor/{signing.public_id}/cancel/").status_code == 302
    signing.refresh_from_db()
    assert signing.status == "cancelled"


def test_another_familys_person_or_signing_is_a_404(client):
    signing, _account = signed()
    client.force_login(UserFactory())
    forged = client.post(
        "/me/family-doctor/",
        {"patient": signing.patient.public_id, "team": signing.team.public_id, "consent": "yes"},
    )
    assert forged.status_code == 404
    assert client.post(f"/me/family-doctor/{signing.public_id}/cancel/").status_code == 404
    signing.refresh_from_db()
    assert signing.status == "active"


def test_another_teams_panel_member_and_task_are_404(client):
    signing, _account = signed()
    team = signing.team
    plan = followup_plan_set(signing=signing, by=team.gp.user, interval_months=3, label="BP")
    task = plan.tasks.first()
    other = clinic_team()
    _staff_client(client, other.gp.user)
    base = f"/doctor/family/{team.public_id}/"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}{signing.public_id}/").status_code == 404
    assert client.post(f"{base}tasks/{task.public_id}/done/").status_code == 404
    # Its own team's URL with the other team's member or task: 404 as well.
    mine = f"/doctor/family/{other.public_id}/"
    assert client.get(f"{mine}{signing.public_id}/").status_code == 404
    assert client.post(f"{mine}tasks/{task.public_id}/done/").status_code == 404
    assert client.post(f"{mine}{signing.public_id}/plan/", {"label": "x"}).status_code == 404
    assert not FollowUpTask.objects.filter(done_at__isnull=False).exists()


def _panel_of(team, n):
    for i in range(n):
        signing, _account = signed(team)
        Problem.objects.create(
            patient=signing.patient,
            description="2型糖尿病",
            icd10_code="E11.9",
            hospital=team.clinic,
            recorded_by=team.gp.user,
        )
        followup_plan_set(signing=signing, by=team.gp.user, interval_months=3, label=f"p{i}")
        signed_prescription(patient=signing.patient, doctor=team.gp, drugs=[chronic_drug()])


def test_the_panel_lists_people_with_chronic_problems_in_a_fixed_number_of_queries(
    client, django_assert_num_queries
):
    team = clinic_team()
    _panel_of(team, 2)
    _staff_client(client, team.gp.user)
    url = f"/doctor/family/{team.public_id}/"
    client.get(url)  # session, MFA checks warmed
    # session, account, second factor, unread badge; the team; signings, problems, tasks; the
    # last chronic-care prescriptions and their items (renewals due)
    with django_assert_num_queries(9) as few:
        page = client.get(url)
    assert page.status_code == 200
    assert page.content.decode().count("E11.9") == 2
    _panel_of(team, 5)
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(url)
    assert page.content.decode().count("E11.9") == 7


def test_the_team_doctor_books_a_clinic_period_counted_on_the_familys_caps(client):
    signing, family = signed()
    team = signing.team
    gp = team.gp.user
    slot = open_slot(doctor=team.gp, site=team.clinic, department=team.gp.department)
    _staff_client(client, gp)
    response = client.post(
        f"/doctor/family/{team.public_id}/{signing.public_id}/book/", {"slot": slot.pk}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    appointment = Appointment.objects.get(patient=signing.patient)
    assert appointment.booked_by_id == gp.pk and appointment.cap_account_id == family.pk
    assert Slot.objects.get(pk=slot.pk).booked == 1
    clinic = team.clinic
    clinic.monthly_cap_per_account = 1
    clinic.save(update_fields=["monthly_cap_per_account"])
    later = open_slot(
        doctor=team.gp,
        site=clinic,
        department=team.gp.department,
        start=slot.start + dt.timedelta(days=1),
        end=slot.end + dt.timedelta(days=1),
    )
    # The doctor's own account is not counted; the family's is, and it is full.
    check_monthly_caps(account=gp, slot=later, now=timezone.now())
    with pytest.raises(MonthlyCapAccount):
        panel_book(signing=signing, slot=later, by=gp)
    assert Slot.objects.get(pk=later.pk).booked == 0


def test_the_nurse_or_another_doctor_cannot_book_for_the_panel():
    signing, _family = signed()
    team = signing.team
    slot = open_slot(doctor=team.gp, site=team.clinic, department=team.gp.department)
    from appointments.familydoctors.errors import NotTeamDoctor

    for who in (team.nurse, DoctorFactory(user=UserFactory()).user):
        with pytest.raises(NotTeamDoctor):
            panel_book(signing=signing, slot=slot, by=who)
    assert Slot.objects.get(pk=slot.pk).booked == 0


def test_the_clinic_admin_creates_a_team_of_its_own_staff_only(client):
    team = clinic_team()
    clinic = team.clinic
    admin = with_totp(StaffMembershipFactory(hospital=clinic, role="hospital_admin").user)
    client.force_login(admin)
    url = f"/manage/{clinic.slug}/family-teams/"
    assert client.get(url).status_code == 200
    stranger_gp = DoctorFactory(user=UserFactory())
    refused = client.post(url, {"name": "B", "gp": stranger_gp.pk, "is_active": "on"})
    assert refused.status_code == 400
    created = client.post(url, {"name": "B队", "gp": team.gp.pk, "is_active": "on"})
    assert created.status_code == 302
    assert FamilyTeam.objects.filter(clinic=clinic, name="B队").exists()
    other_clinic_team = clinic_team()
    assert client.get(f"{url}{other_clinic_team.pk}/").status_code == 404


def test_the_panel_marks_a_renewal_due_when_the_supply_runs_out_within_a_week(client):
    team = clinic_team()
    due, _ = signed(team, name="赵桂兰")
    later, _ = signed(team, name="李建国")
    for signing in (due, later):
        Problem.objects.create(
            patient=signing.patient,
            description="原发性高血压",
            icd10_code="I10",
            hospital=team.clinic,
            recorded_by=team.gp.user,
        )
    now = timezone.now()
    drug = chronic_drug()
    # 30 days' supply: one signed 25 days ago ends in 5 days, one signed today in 30.
    signed_prescription(
        patient=due.patient, doctor=team.gp, drugs=[drug], signed_at=now - dt.timedelta(days=25)
    )
    signed_prescription(patient=later.patient, doctor=team.gp, drugs=[drug], signed_at=now)
    _staff_client(client, team.gp.user)

    page = client.get(f"/doctor/family/{team.public_id}/", HTTP_ACCEPT_LANGUAGE="en")

    text = page.content.decode()
    rows = {name: text[text.index(name) :][:1500] for name in ("赵桂兰", "李建国")}
    assert "Renewal due: supply ends" in rows["赵桂兰"].split("</tr>")[0]
    assert "Renewal due" not in rows["李建国"].split("</tr>")[0]
    assert "Supply until" in rows["李建国"].split("</tr>")[0]
