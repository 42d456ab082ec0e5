"""The pages of issue 15: the clinic doctor records an exam on the visit and sends it for
reading; the department's queue (a fixed number of queries), claim, read, sign; the report in
My record (with high/low flags and ranges) and in the doctor's record view. Anyone else: 404."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from records.models import Exam
from records.services import exam_claim, exam_record, exam_send, exam_sign
from tests.records.conftest import PDF_BYTES, png_bytes, upload
from tests.records.exams import LAB_VALUES, exams_world

pytestmark = pytest.mark.django_db


def _values_form(rows) -> dict[str, str]:
    form = {}
    for index, row in enumerate(rows):
        for name in ("name", "value", "unit", "low", "high"):
            form[f"obs-{index}-{name}"] = row[name]
    return form


def test_the_gp_records_an_exam_with_files_and_values_and_sends_it(client):
    world = exams_world()
    client.force_login(world.gp)
    url = f"/clinical/encounters/{world.visit.public_id}/exams/"
    page = client.get(url)
    assert page.status_code == 200 and "Record an exam" in page.content.decode()
    response = client.post(
        url,
        {
            "kind": "lab",
            "title": "血常规",
            "files": [
                upload("a.pdf", PDF_BYTES, "application/pdf"),
                upload("b.png", png_bytes(), "image/png"),
            ],
            **_values_form(LAB_VALUES),
        },
    )
    assert response.status_code == 302
    exam = Exam.objects.get()
    assert exam.files.count() == 2 and exam.observations.count() == 3
    html = client.get(url).content.decode()
    assert "血红蛋白" in html and "Cardiology" in html  # the value, and the department to send to
    response = client.post(
        f"/clinical/exams/{exam.public_id}/send/",
        {"department": world.cardiology.pk, "question": "贫血原因？"},
    )
    assert response.status_code == 302
    exam.refresh_from_db()
    assert exam.status == "sent" and exam.question == "贫血原因？"


def test_a_bad_lab_value_is_refused_on_the_page_and_nothing_is_saved(client):
    world = exams_world()
    client.force_login(world.gp)
    url = f"/clinical/encounters/{world.visit.public_id}/exams/"
    bad = dict(LAB_VALUES[0], value="一百")
    response = client.post(url, {"kind": "lab", **_values_form([bad])}, follow=True)
    assert "Lab value 1" in response.content.decode()
    assert not Exam.objects.exists()


def test_nobody_but_the_visits_doctor_reaches_its_exam_pages(client):
    world = exams_world()
    exam = exam_record(encounter=world.visit, by=world.gp, kind="ecg")
    for user in (world.specialist, world.family):
        client.force_login(user)
        assert client.get(f"/clinical/encounters/{world.visit.public_id}/exams/").status_code == 404
        sent = client.post(
            f"/clinical/exams/{exam.public_id}/send/", {"department": world.cardiology.pk}
        )
        assert sent.status_code == 404
    exam.refresh_from_db()
    assert exam.status == "registered"


def _sent(world, kind="ecg"):
    exam = exam_record(encounter=world.visit, by=world.gp, kind=kind)
    return exam_send(exam=exam, department=world.cardiology, by=world.gp)


def test_the_queue_lists_waiting_exams_in_a_fixed_number_of_queries(
    client, django_assert_num_queries
):
    world = exams_world()
    _sent(world)
    client.force_login(world.specialist)
    client.get("/doctor/reading/")  # warm the session and the MFA check
    with django_assert_num_queries(7) as few:
        assert client.get("/doctor/reading/").status_code == 200
    for kind in ("xray", "ultrasound", "lab", "ecg"):
        _sent(world, kind)
    with django_assert_num_queries(len(few)):
        html = client.get("/doctor/reading/").content.decode()
    assert html.count("/claim/") == 5
    assert world.patient.name not in html  # before the claim, no name


def test_a_specialist_claims_reads_the_files_and_signs_the_report(client):
    world = exams_world()
    exam = exam_record(
        encounter=world.visit,
        by=world.gp,
        kind="ecg",
        uploads=[upload("ecg.pdf", PDF_BYTES, "application/pdf")],
    )
    exam_send(exam=exam, department=world.cardiology, by=world.gp)
    file = exam.files.get()
    client.force_login(world.specialist)
    page = client.get(f"/doctor/reading/{exam.public_id}/").content.decode()
    assert "Claim this exam" in page and world.patient.name not in page
    file_url = f"/doctor/reading/{exam.public_id}/files/{file.public_id}/"
    assert client.get(file_url).status_code == 404
    assert client.post(f"/doctor/reading/{exam.public_id}/claim/").status_code == 302
    page = client.get(f"/doctor/reading/{exam.public_id}/").content.decode()
    assert world.patient.name in page and "Sign the report" in page
    download = client.get(file_url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == file.file.open("rb").read()
    assert client.get(f"/doctor/record/{world.patient.public_id}/").status_code == 200
    response = client.post(
        f"/doctor/reading/{exam.public_id}/sign/",
        {"findings": "窦性心律，ST 段压低", "impression": "心肌缺血可能", "urgent": "on"},
    )
    assert response.status_code == 302
    exam.refresh_from_db()
    assert exam.is_final and exam.is_urgent
    reads = AuditEvent.objects.filter(action="record.read", actor=world.specialist)
    assert {event.data["what"] for event in reads} >= {"exam", "attachment", "record"}


def test_another_specialist_gets_a_404_once_the_exam_is_claimed(client):
    world = exams_world()
    exam = _sent(world)
    exam_claim(exam=exam, by=world.specialist)
    client.force_login(world.colleague)
    assert client.get(f"/doctor/reading/{exam.public_id}/").status_code == 404
    signed = client.post(f"/doctor/reading/{exam.public_id}/sign/", {"findings": "x"})
    assert signed.status_code == 404
    client.force_login(world.outsider)
    assert client.get("/doctor/reading/").status_code == 200
    client.force_login(world.family)
    assert client.get("/doctor/reading/").status_code == 404


def test_the_family_reads_the_signed_report_with_flags_and_ranges(client):
    world = exams_world()
    exam = exam_record(
        encounter=world.visit, by=world.gp, kind="lab", title="血常规", observations=LAB_VALUES
    )
    client.force_login(world.family)
    html = client.get(f"/me/record/{world.patient.public_id}/").content.decode()
    assert "血常规" not in html  # not yet signed
    exam_sign(exam=exam, by=world.gp, findings="", impression="贫血，血糖偏高")
    html = client.get(f"/me/record/{world.patient.public_id}/").content.decode()
    assert "血常规" in html and "贫血，血糖偏高" in html
    assert "130–175" in html and "↓" in html and "↑" in html
    client.force_login(world.gp)
    html = client.get(f"/doctor/record/{world.patient.public_id}/").content.decode()
    assert "血常规" in html and "3.9–6.1" in html


def test_the_family_reads_the_report_in_chinese(client):
    world = exams_world()
    exam = exam_record(encounter=world.visit, by=world.gp, kind="lab", observations=LAB_VALUES)
    exam_sign(exam=exam, by=world.gp, findings="", impression="贫血")
    client.force_login(world.family)
    url = f"/me/record/{world.patient.public_id}/"
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "检查检验报告" in html and "参考范围" in html


def test_the_visits_exams_page_reads_in_a_fixed_number_of_queries(
    client, django_assert_num_queries
):
    world = exams_world()
    exam_record(encounter=world.visit, by=world.gp, kind="lab", observations=LAB_VALUES)
    client.force_login(world.gp)
    url = f"/clinical/encounters/{world.visit.public_id}/exams/"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for kind in ("ecg", "xray", "ultrasound"):
        exam_record(
            encounter=world.visit,
            by=world.gp,
            kind=kind,
            uploads=[upload("f.pdf", PDF_BYTES, "application/pdf")],
            observations=LAB_VALUES[:1],
        )
    _sent(world)
    with django_assert_num_queries(len(few)):
        html = client.get(url).content.decode()
    assert html.count('class="panel exam"') == 5
