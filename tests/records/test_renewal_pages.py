"""The repeat-prescription pages (issue 20): the family's request from the record, the doctor's
queue and answer; a person, prescription or request that is not yours is a 404; the list pages
read in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from notifications.dates import format_day
from records import services
from records.models import Prescription, RenewalRequest
from tests.factories import UserFactory
from tests.records.renewals import chronic_patient, signed_prescription

pytestmark = pytest.mark.django_db


def _request_url(case, prescription=None) -> str:
    prescription = prescription or case.prescription
    return reverse("renewal_request", args=[case.patient.public_id, prescription.public_id])


def test_the_family_asks_from_the_record_and_sees_it_waiting(client):
    case = chronic_patient()
    client.force_login(case.account)
    record = client.get(reverse("record_patient", args=[case.patient.public_id]))
    assert _request_url(case) in record.content.decode()
    page = client.get(_request_url(case))
    assert page.status_code == 200 and "氨氯地平片" in page.content.decode()
    response = client.post(_request_url(case), {"note": "最近血压 130/85"})
    assert response.status_code == 302
    renewal = RenewalRequest.objects.get()
    assert renewal.note == "最近血压 130/85" and renewal.requested_by == case.account
    record = client.get(reverse("record_patient", args=[case.patient.public_id])).content.decode()
    assert _request_url(case) not in record
    assert "waiting for the doctor" in record or "等待医生处理" in record


def test_too_soon_says_when_the_next_renewal_is_possible(client):
    case = chronic_patient(days=30, signed_days_ago=10)
    client.force_login(case.account)
    record = client.get(
        reverse("record_patient", args=[case.patient.public_id]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    day = timezone.localtime(case.prescription.signed_at + dt.timedelta(days=30)).date()
    # The one date format (issue 19): `Tue 22 Dec`, with the year only in another year.
    shown = format_day(day, language="en", today=timezone.localdate())  # `Tue 22 Dec`
    assert f"Next renewal possible from {shown}" in record
    assert _request_url(case) not in record
    client.post(_request_url(case))
    assert not RenewalRequest.objects.exists()


def test_another_persons_prescription_or_another_account_is_a_404(client):
    case = chronic_patient()
    other = chronic_patient()
    client.force_login(case.account)
    # Her own person's id with someone else's prescription, and someone else's person.
    assert client.get(_request_url(case, other.prescription)).status_code == 404
    assert client.post(_request_url(case, other.prescription)).status_code == 404
    assert client.get(_request_url(other)).status_code == 404
    client.force_login(UserFactory())
    assert client.post(_request_url(case)).status_code == 404
    client.force_login(case.doctor.user)
    assert client.post(_request_url(case)).status_code == 404
    assert not RenewalRequest.objects.exists()


def test_the_doctor_answers_from_the_queue_and_others_get_a_404(client):
    case = chronic_patient()
    renewal = services.renewal_request(prescription=case.prescription, account=case.account)
    detail = reverse("renewal_detail", args=[renewal.public_id])
    approve = reverse("renewal_approve", args=[renewal.public_id])
    for user in (case.colleague.user, case.account):
        client.force_login(user)
        assert client.get(detail).status_code == 404
        assert client.post(approve, {"action": "approve"}).status_code == 404
    client.force_login(case.doctor.user)
    queue = client.get(reverse("renewal_queue")).content.decode()
    assert case.patient.name in queue and detail in queue
    assert client.get(detail).status_code == 200
    response = client.post(approve, {"action": "approve"})
    assert response.status_code == 302
    renewal.refresh_from_db()
    assert renewal.status == "approved" and renewal.renewed.prior == case.prescription


def test_the_doctor_changes_a_dose_then_signs(client):
    case = chronic_patient()
    renewal = services.renewal_request(prescription=case.prescription, account=case.account)
    client.force_login(case.doctor.user)
    client.post(
        reverse("renewal_approve", args=[renewal.public_id]),
        {
            "action": "change",
            "item-0-dose": "半片",
            "item-0-frequency": "每日一次",
            "item-0-days": "30",
            "item-0-quantity": "15",
            "item-0-keep": "on",
        },
    )
    renewal.refresh_from_db()
    assert renewal.status == "changed"
    assert [(i.dose, i.quantity) for i in renewal.renewed.items.all()] == [("半片", 15)]


def test_asking_for_a_visit_gives_the_family_a_booking_link(client):
    case = chronic_patient()
    renewal = services.renewal_request(prescription=case.prescription, account=case.account)
    client.force_login(case.doctor.user)
    client.post(
        reverse("renewal_decline", args=[renewal.public_id]), {"message": "请来门诊复查血压。"}
    )
    renewal.refresh_from_db()
    assert renewal.status == "declined"
    client.force_login(case.account)
    record = client.get(reverse("record_patient", args=[case.patient.public_id])).content.decode()
    assert "请来门诊复查血压。" in record
    assert reverse("doctor_detail", args=[case.doctor.pk]) in record


def test_the_queue_lists_oldest_first_in_a_fixed_number_of_queries(
    client, django_assert_num_queries
):
    case = chronic_patient()
    client.force_login(case.doctor.user)
    url = reverse("renewal_queue")
    first = services.renewal_request(prescription=case.prescription, account=case.account)
    client.get(url)
    # session, account, the staff roles, is a doctor, the doctor's departments, the
    # requests (person, problem, prescription), their items, the drugs, the unread count.
    with django_assert_num_queries(8):
        small = client.get(url)
    for _ in range(5):
        more = chronic_patient()
        prescription = signed_prescription(
            patient=more.patient,
            doctor=case.doctor,
            drugs=[item.drug for item in more.prescription.items.all()],
            signed_at=timezone.now() - dt.timedelta(days=40),
        )
        services.renewal_request(prescription=prescription, account=more.account)
    with django_assert_num_queries(8):
        big = client.get(url).content.decode()
    assert small.status_code == 200
    assert big.count(reverse("renewal_detail", args=[first.public_id])) == 1
    order = [str(r.public_id) for r in RenewalRequest.objects.order_by("created_at", "id")]
    positions = [big.index(public_id) for public_id in order]
    assert len(positions) == 6 and positions == sorted(positions)


def test_the_record_page_of_a_chronic_patient_reads_in_a_fixed_number_of_queries(
    client, django_assert_num_queries
):
    case = chronic_patient()
    client.force_login(case.account)
    url = reverse("record_patient", args=[case.patient.public_id])
    services.renewal_request(prescription=case.prescription, account=case.account)
    client.get(url)
    # test_my_record's page (no exams, referrals or notes here) with the renewal requests,
    # the prescriptions of chronic-care drugs, their items and drugs, and their renewals.
    with django_assert_num_queries(19):
        client.get(url)
    for _ in range(4):
        prescription = signed_prescription(
            patient=case.patient,
            doctor=case.doctor,
            drugs=[item.drug for item in case.prescription.items.all()],
            signed_at=timezone.now() - dt.timedelta(days=40),
        )
        services.renewal_request(prescription=prescription, account=case.account)
    assert Prescription.objects.filter(encounter__patient=case.patient).count() == 5
    with django_assert_num_queries(19):
        client.get(url)


def test_a_doctor_marks_a_problem_chronic_in_the_workspace_and_the_family_may_then_renew(
    client,
):
    case = chronic_patient(icd10="J45")  # asthma: not chronic by its code
    client.force_login(case.account)
    record = reverse("record_patient", args=[case.patient.public_id])
    assert _request_url(case) not in client.get(record).content.decode()
    visit = services.encounter_open(patient=case.patient, doctor=case.doctor, mode="in_person")
    client.force_login(case.doctor.user)
    url = reverse("clinical_problem_chronic", args=[visit.public_id, case.problem.public_id])
    assert client.post(url, {"chronic": "1"}).status_code == 302
    case.problem.refresh_from_db()
    assert case.problem.marked_chronic and case.problem.is_chronic
    assert AuditEvent.objects.filter(action="problem.chronic", actor=case.doctor.user).exists()
    client.force_login(case.colleague.user)
    assert client.post(url, {"chronic": "0"}).status_code == 404
    client.force_login(case.account)
    assert _request_url(case) in client.get(record).content.decode()
