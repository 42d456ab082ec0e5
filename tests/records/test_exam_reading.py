"""The reading queue (issue 15): record an exam on a visit, send it to a cloud department,
one specialist claims it (and reads the record), signs the report once; an urgent report
tells the visit's doctor in the inbox and by SMS in the signing's transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from notifications.models import OutboxMessage
from records.access import record_access
from records.errors import ClinicalRefused
from records.models import CareRelationship, Exam
from records.services import exam_claim, exam_record, exam_send, exam_sign
from records.services.encounters import AFTER_CARE
from tests.records.conftest import PDF_BYTES, jpeg_with_gps, upload
from tests.records.exams import LAB_VALUES, exams_world

pytestmark = pytest.mark.django_db


def _sent(world, **fields):
    exam = exam_record(
        encounter=world.visit, by=world.gp, kind="ecg", title="十二导联心电图", **fields
    )
    return exam_send(exam=exam, department=world.cardiology, by=world.gp, question="ST 段？")


def test_the_visits_doctor_records_an_exam_with_files_and_lab_values():
    world = exams_world()
    exam = exam_record(
        encounter=world.visit,
        by=world.gp,
        kind="lab",
        title="血常规",
        uploads=[
            upload("ecg.pdf", PDF_BYTES, "application/pdf"),
            upload("p.jpg", jpeg_with_gps(), "image/jpeg"),
        ],
        observations=LAB_VALUES,
    )
    assert exam.status == "registered" and exam.hospital == world.clinic
    files = list(exam.files.order_by("content_type"))
    assert [f.content_type for f in files] == ["application/pdf", "image/jpeg"]
    assert b"CANARY-CAMERA-MODEL" not in files[1].file.read()  # EXIF stripped, as every file
    values = list(exam.observations.all())
    assert [(v.name, v.flag) for v in values] == [("血红蛋白", "L"), ("白细胞", ""), ("血糖", "H")]
    assert values[0].value == Decimal("112") and values[0].range_display == "130–175"
    assert AuditEvent.objects.filter(action="exam.record").count() == 1


def test_only_the_visits_own_doctor_records_and_a_bad_value_saves_nothing():
    world = exams_world()
    with pytest.raises(ClinicalRefused):
        exam_record(encounter=world.visit, by=world.specialist, kind="ecg")
    with pytest.raises(ClinicalRefused) as refused:
        exam_record(
            encounter=world.visit,
            by=world.gp,
            kind="lab",
            observations=[LAB_VALUES[0], {"name": "x", "value": "abc"}],
        )
    assert refused.value.code == "invalid"
    with pytest.raises(ClinicalRefused):
        exam_record(
            encounter=world.visit,
            by=world.gp,
            kind="lab",
            observations=[{"name": "x", "value": "1", "low": "5", "high": "2"}],
        )
    assert not Exam.objects.exists()


def test_an_exam_goes_only_to_a_cloud_department_and_only_once():
    world = exams_world()
    exam = exam_record(encounter=world.visit, by=world.gp, kind="xray")
    with pytest.raises(ClinicalRefused):
        exam_send(exam=exam, department=world.gp.doctor.department, by=world.gp)
    exam = exam_send(exam=exam, department=world.cardiology, by=world.gp)
    assert exam.status == "sent" and exam.sent_at is not None
    with pytest.raises(ClinicalRefused) as refused:
        exam_send(exam=exam, department=world.cardiology, by=world.gp)
    assert refused.value.code == "not_sendable"


def test_a_specialist_of_the_department_claims_it_once_and_may_then_read_the_record():
    world = exams_world()
    exam = _sent(world)
    assert not record_access(user=world.specialist, patient=world.patient).allowed
    with pytest.raises(ClinicalRefused) as refused:
        exam_claim(exam=exam, by=world.outsider)
    assert refused.value.code == "not_in_department"
    exam = exam_claim(exam=exam, by=world.specialist)
    assert exam.status == "claimed" and exam.reader == world.specialist
    access = record_access(user=world.specialist, patient=world.patient)
    assert access.allowed and access.reason == "reading"
    assert access.grant.source == exam
    with pytest.raises(ClinicalRefused) as refused:
        exam_claim(exam=exam, by=world.colleague)
    assert refused.value.code == "claimed"
    assert not record_access(user=world.colleague, patient=world.patient).allowed


def test_the_report_is_signed_once_by_its_reader_and_access_winds_down():
    world = exams_world()
    exam = exam_claim(exam=_sent(world), by=world.specialist)
    with pytest.raises(ClinicalRefused):
        exam_sign(exam=exam, by=world.colleague, findings="x", impression="y")
    with pytest.raises(ClinicalRefused) as refused:
        exam_sign(exam=exam, by=world.specialist, findings=" ", impression="")
    assert refused.value.code == "empty"
    signed = exam_sign(exam=exam, by=world.specialist, findings="窦性心律", impression="正常心电图")
    assert signed.is_final and signed.signer == world.specialist and not signed.is_urgent
    with pytest.raises(ClinicalRefused) as refused:
        exam_sign(exam=exam, by=world.specialist, findings="改了", impression="改了")
    assert refused.value.code == "signed"
    exam.refresh_from_db()
    assert exam.findings == "窦性心律"
    grant = CareRelationship.objects.get(reason="reading", user=world.specialist)
    assert grant.ends_at <= signed.signed_at + AFTER_CARE
    assert record_access(user=world.specialist, patient=world.patient).allowed
    later = timezone.now() + AFTER_CARE + dt.timedelta(minutes=1)
    assert not record_access(user=world.specialist, patient=world.patient, at=later).allowed
    assert not OutboxMessage.objects.exists()  # not urgent: nobody is paged
    actions = list(
        AuditEvent.objects.filter(action__startswith="exam.").values_list("action", flat=True)
    )
    assert sorted(actions) == ["exam.claim", "exam.record", "exam.send", "exam.sign"]


def test_an_unclaimed_exam_gives_no_access_and_a_claim_unused_ends_with_its_grant():
    world = exams_world()
    exam = exam_claim(exam=_sent(world), by=world.specialist)
    grant = CareRelationship.objects.get(reason="reading")
    assert abs(grant.ends_at - grant.starts_at - dt.timedelta(days=30)) < dt.timedelta(seconds=5)
    after = grant.ends_at + dt.timedelta(seconds=1)
    assert not record_access(user=world.specialist, patient=world.patient, at=after).allowed
    assert exam.status == "claimed"


def test_the_clinic_doctor_signs_an_exam_never_sent():
    world = exams_world()
    exam = exam_record(encounter=world.visit, by=world.gp, kind="lab", observations=LAB_VALUES)
    with pytest.raises(ClinicalRefused):
        exam_sign(exam=exam, by=world.specialist, findings="x", impression="")
    exam = exam_sign(exam=exam, by=world.gp, findings="", impression="贫血，血糖高")
    assert exam.is_final


def test_an_urgent_report_pages_the_visits_doctor_in_the_inbox_and_by_sms():
    world = exams_world()
    exam = exam_claim(exam=_sent(world), by=world.specialist)
    exam_sign(
        exam=exam, by=world.specialist, findings="ST 段抬高", impression="急性心梗可能", urgent=True
    )
    rows = OutboxMessage.objects.filter(kind="exam.urgent")
    assert sorted(rows.values_list("channel", flat=True)) == ["inapp", "sms"]
    assert {row.account_id for row in rows} == {world.gp.pk}
    sms = rows.get(channel="sms")
    assert "急性心梗" not in str(sms.body) and world.patient.name not in str(sms.body)


def test_an_urgent_signing_rolled_back_pages_nobody():
    world = exams_world()
    exam = exam_claim(exam=_sent(world), by=world.specialist)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        exam_sign(exam=exam, by=world.specialist, findings="x", impression="y", urgent=True)
        raise Boom
    assert not OutboxMessage.objects.exists()
    exam.refresh_from_db()
    assert exam.status == "claimed"
