"""Signing with a family-doctor team (家庭医生签约, issue 20): consent, one live signing per
person, a child by the guardian, and the team's access to the record for the signed year only."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from appointments.familydoctors import errors
from appointments.familydoctors.models import FamilySigning
from appointments.familydoctors.services import (
    signing_cancel,
    signing_create,
    signing_end_at,
    team_save,
)
from audit.models import AuditEvent
from notifications.models import OutboxMessage
from notifications.render import message_render
from records.access import record_access
from records.models import CareRelationship
from tests.appointments.conftest import person
from tests.factories import DoctorFactory, HospitalFactory, PatientLinkFactory, UserFactory
from tests.familydoctors.conftest import clinic_team, signed

pytestmark = pytest.mark.django_db


def test_the_team_reads_the_record_for_the_signed_year_and_not_a_day_longer():
    team = clinic_team()
    signing, _account = signed(team)
    gp, nurse = team.gp.user, team.nurse
    patient = signing.patient
    assert record_access(user=gp, patient=patient).reason == CareRelationship.Reason.FAMILY
    assert record_access(user=nurse, patient=patient).allowed
    end = signing_end_at(signing)
    assert timezone.localtime(end, end.tzinfo).date() == signing.ends_on + dt.timedelta(days=1)
    with time_machine.travel(end - dt.timedelta(minutes=1), tick=False):
        assert record_access(user=gp, patient=patient).allowed
    with time_machine.travel(end + dt.timedelta(minutes=1), tick=False):
        assert not record_access(user=gp, patient=patient).allowed
        assert not record_access(user=nurse, patient=patient).allowed


def test_cancelling_ends_the_teams_access_at_once_and_lets_the_person_sign_again():
    signing, account = signed()
    gp = signing.team.gp.user
    signing_cancel(signing=signing, by=account)
    assert not record_access(user=gp, patient=signing.patient).allowed
    other = clinic_team()
    again = signing_create(patient=signing.patient, team=other, by=account, consent=True)
    assert again.status == FamilySigning.Status.ACTIVE
    assert AuditEvent.objects.filter(action="family_signing.cancel").count() == 1


def test_one_live_signing_per_person():
    signing, account = signed()
    with pytest.raises(errors.AlreadySigned):
        signing_create(patient=signing.patient, team=clinic_team(), by=account, consent=True)
    assert FamilySigning.objects.filter(patient=signing.patient).count() == 1


def test_a_signing_past_its_year_gives_way_to_a_new_one():
    signing, account = signed()
    with time_machine.travel(signing_end_at(signing) + dt.timedelta(days=2), tick=False):
        again = signing_create(patient=signing.patient, team=signing.team, by=account, consent=True)
    signing.refresh_from_db()
    assert signing.status == FamilySigning.Status.ENDED
    assert again.starts_on > signing.ends_on


def test_without_consent_nothing_is_signed():
    patient, account = person()
    with pytest.raises(errors.ConsentNeeded):
        signing_create(patient=patient, team=clinic_team(), by=account, consent=False)
    assert not FamilySigning.objects.exists()


def test_a_child_is_signed_by_the_guardian_not_by_another_family_member():
    child, parent = person(relationship="child", birth_date=dt.date(2020, 3, 1))
    grandmother = UserFactory()
    PatientLinkFactory(patient=child, account=grandmother, relationship="other", is_manager=False)
    team = clinic_team()
    with pytest.raises(errors.NotGuardian):
        signing_create(patient=child, team=team, by=grandmother, consent=True)
    signing = signing_create(patient=child, team=team, by=parent, consent=True)
    assert signing.on_behalf == "guardian"


def test_a_stranger_cannot_sign_someone_else():
    patient, _account = person()
    with pytest.raises(errors.NotGuardian):
        signing_create(patient=patient, team=clinic_team(), by=UserFactory(), consent=True)


def test_the_family_is_told_by_sms_and_inbox_with_a_snapshot():
    _signing, account = signed()
    rows = OutboxMessage.objects.filter(account=account, kind="familydoctor.signed")
    assert {r.channel for r in rows} == {"sms", "inapp"}
    params = rows.first().params
    assert params["team"]["en"] == "Happiness team" and params["ends_on"]
    assert AuditEvent.objects.filter(action="family_signing.sign").count() == 1


def test_a_team_belongs_to_a_clinic_and_its_members_work_there():
    hospital = HospitalFactory(kind="hospital")
    gp = DoctorFactory(user=UserFactory(), department__hospital=hospital)
    with pytest.raises(errors.NotAClinic):
        team_save(clinic=hospital, by=None, name="x", gp=gp)
    clinic = HospitalFactory(kind="clinic")
    with pytest.raises(errors.NotClinicStaff):
        team_save(clinic=clinic, by=None, name="x", gp=gp)


def test_a_new_team_member_takes_over_the_access_and_the_old_one_loses_it():
    team = clinic_team()
    signing, _account = signed(team)
    old_gp = team.gp.user
    new_gp = DoctorFactory(department=team.gp.department, user=UserFactory())
    team_save(clinic=team.clinic, by=None, team=team, name=team.name, gp=new_gp, nurse=team.nurse)
    assert not record_access(user=old_gp, patient=signing.patient).allowed
    assert record_access(user=new_gp.user, patient=signing.patient).allowed


def test_the_signing_message_reads_in_both_languages_from_its_snapshot():
    _signing, account = signed()
    row = OutboxMessage.objects.filter(account=account, kind="familydoctor.signed").first()
    chinese = message_render(kind=row.kind, params=row.params, language="zh-hans")
    english = message_render(kind=row.kind, params=row.params, language="en")
    assert "幸福家医团队" in chinese.title and "签约" in chinese.title
    assert "Happiness team" in english.title and "signed" in english.title
    # A long SMS is sent in parts, each with a "(1/2) " prefix.
    whole = "".join(re.sub(r"^\(\d+/\d+\) ", "", part) for part in english.sms)
    assert "/me/family-doctor/" in whole
