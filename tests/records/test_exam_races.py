"""Races on PostgreSQL: an exam in a department's queue goes to exactly one specialist, and its
report is signed exactly once, however many click at the same instant."""

from __future__ import annotations

import pytest
from django.db import connection

from notifications.models import OutboxMessage
from records.models import CareRelationship, Exam
from records.services import exam_claim, exam_record, exam_send, exam_sign
from tests.concurrency import race
from tests.records.conftest import doctor_account
from tests.records.exams import exams_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("races")]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the claim's conditional UPDATE races need PostgreSQL")


def _sent(world) -> Exam:
    exam = exam_record(encounter=world.visit, by=world.gp, kind="ecg")
    return exam_send(exam=exam, department=world.cardiology, by=world.gp)


def test_twelve_specialists_claiming_at_once_leave_the_exam_to_exactly_one():
    world = exams_world()
    exam = _sent(world)
    readers = [world.specialist, world.colleague]
    readers += [doctor_account(department=world.cardiology)[1] for _ in range(10)]
    results = race([lambda user=user: exam_claim(exam=exam, by=user) for user in readers])
    winners = [r for r in results if isinstance(r, Exam)]
    assert len(winners) == 1
    exam.refresh_from_db()
    assert exam.status == "claimed" and exam.reader_id == winners[0].reader_id
    grants = CareRelationship.objects.filter(reason="reading")
    assert list(grants.values_list("user_id", flat=True)) == [exam.reader_id]


def test_eight_signings_at_once_sign_the_report_once_and_page_once():
    world = exams_world()
    exam = exam_claim(exam=_sent(world), by=world.specialist)
    results = race(
        [
            lambda n=n: exam_sign(
                exam=exam, by=world.specialist, findings=f"第{n}稿", impression="急", urgent=True
            )
            for n in range(8)
        ]
    )
    assert sum(isinstance(r, Exam) for r in results) == 1
    exam.refresh_from_db()
    assert exam.is_final
    assert OutboxMessage.objects.filter(kind="exam.urgent", channel="sms").count() == 1
