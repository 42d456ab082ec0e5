"""Follow-up plans and tasks (issue 20): a plan makes tasks due on dates for the signed year;
the family is reminded of each once, exactly once; the team marks them done, linked to the
visit, and sees the overdue ones on its panel."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from appointments.familydoctors import errors
from appointments.familydoctors.models import FollowUpTask
from appointments.familydoctors.selectors import panel
from appointments.familydoctors.services import (
    add_months,
    followup_plan_set,
    followup_reminders_send,
    followup_task_done,
)
from appointments.familydoctors.tasks import remind_due_followups
from audit.models import AuditEvent
from notifications.models import OutboxMessage
from records.models import Encounter, Problem, today_in_city
from tests.factories import UserFactory
from tests.familydoctors.conftest import signed

pytestmark = pytest.mark.django_db

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _hypertension(signing):
    return Problem.objects.create(
        patient=signing.patient,
        description="原发性高血压",
        icd10_code="I10",
        hospital=signing.team.clinic,
        recorded_by=signing.team.gp.user,
    )


def test_every_three_months_makes_four_tasks_in_the_signed_year():
    signing, _account = signed()
    plan = followup_plan_set(
        signing=signing,
        by=signing.team.gp.user,
        interval_months=3,
        label="",
        problem=_hypertension(signing),
    )
    today = today_in_city()
    due = list(plan.tasks.values_list("due_on", flat=True))
    assert due == [add_months(today, 3), add_months(today, 6), add_months(today, 9)] + (
        [add_months(today, 12)] if add_months(today, 12) <= signing.ends_on else []
    )
    assert plan.label == "原发性高血压"
    assert AuditEvent.objects.filter(action="followup_plan.create").count() == 1


def test_only_the_team_sets_a_plan():
    signing, account = signed()
    with pytest.raises(errors.NotTeamDoctor):
        followup_plan_set(signing=signing, by=account, interval_months=3, label="BP")
    with pytest.raises(errors.NotTeamDoctor):
        followup_plan_set(signing=signing, by=UserFactory(), interval_months=3, label="BP")


def test_a_due_task_is_reminded_to_the_family_exactly_once():
    signing, account = signed()
    plan = followup_plan_set(
        signing=signing, by=signing.team.gp.user, interval_months=3, label="血压随访"
    )
    first = plan.tasks.order_by("due_on").first()
    # A week before: nothing yet.
    with time_machine.travel(
        dt.datetime.combine(first.due_on - dt.timedelta(days=7), dt.time(10), tzinfo=SHANGHAI)
    ):
        assert remind_due_followups() == 0
    # Three days before it is due the family is told, by SMS and in the inbox, once.
    with time_machine.travel(
        dt.datetime.combine(first.due_on - dt.timedelta(days=3), dt.time(10), tzinfo=SHANGHAI)
    ):
        assert remind_due_followups() == 1
        assert remind_due_followups() == 0
    with time_machine.travel(
        dt.datetime.combine(first.due_on + dt.timedelta(days=1), dt.time(10), tzinfo=SHANGHAI)
    ):
        assert followup_reminders_send() == 0
    rows = OutboxMessage.objects.filter(account=account, kind="familydoctor.due")
    assert sorted(r.channel for r in rows) == ["inapp", "sms"]
    assert rows.first().params["what"] == "血压随访"
    assert FollowUpTask.objects.filter(reminded_at__isnull=False).count() == 1
    assert AuditEvent.objects.filter(action="followup_task.remind").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_racing_sweeps_remind_each_task_once():
    signing, _account = signed()
    plan = followup_plan_set(
        signing=signing, by=signing.team.gp.user, interval_months=1, label="血糖"
    )
    last = plan.tasks.order_by("-due_on").first()
    counts: list[int] = []
    barrier = threading.Barrier(4)

    def sweep():
        try:
            barrier.wait()
            counts.append(followup_reminders_send())
        finally:
            connection.close()

    with time_machine.travel(
        dt.datetime.combine(last.due_on, dt.time(10), tzinfo=SHANGHAI), tick=True
    ):
        threads = [threading.Thread(target=sweep) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    total = plan.tasks.count()
    assert sum(counts) == total
    assert OutboxMessage.objects.filter(kind="familydoctor.due", channel="sms").count() == total


def test_a_done_or_cancelled_task_is_not_reminded():
    signing, _account = signed()
    plan = followup_plan_set(signing=signing, by=signing.team.gp.user, interval_months=3, label="x")
    first = plan.tasks.order_by("due_on").first()
    followup_task_done(task=first, by=signing.team.nurse)
    with time_machine.travel(dt.datetime.combine(first.due_on, dt.time(10), tzinfo=SHANGHAI)):
        assert followup_reminders_send() == 0


def test_done_links_the_visit_at_the_clinic_and_overdue_shows_on_the_panel():
    signing, _account = signed()
    team = signing.team
    plan = followup_plan_set(signing=signing, by=team.gp.user, interval_months=3, label="BP")
    first, second = plan.tasks.order_by("due_on")[:2]
    with time_machine.travel(
        dt.datetime.combine(second.due_on + dt.timedelta(days=2), dt.time(10), tzinfo=SHANGHAI)
    ):
        visit = Encounter.objects.create(
            patient=signing.patient,
            doctor=team.gp,
            hospital=team.clinic,
            mode="in_person",
            started_at=timezone.now(),
        )
        rows = panel(team=team)
        assert [t.pk for t in rows[0].overdue_tasks] == [first.pk, second.pk]
        done = followup_task_done(task=second, by=team.gp.user)
        assert done.encounter_id == visit.pk
        rows = panel(team=team)
        assert [t.pk for t in rows[0].overdue_tasks] == [first.pk]
    assert AuditEvent.objects.filter(action="followup_task.done").count() == 1
