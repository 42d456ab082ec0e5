"""Repeat prescriptions (issue 20 item 2): the renewal rules and what each step writes."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEvent
from hospitals.when import format_day
from notifications.models import OutboxMessage
from notifications.render import message_render
from records import services
from records.access import record_access
from records.errors import ClinicalRefused
from records.models import Drug, Encounter, Prescription, Problem, RenewalRequest, icd10_is_chronic
from records.selectors import renewal_waits_for
from records.selectors_renewals import renewal_queue
from tests.factories import PatientLinkFactory, UserFactory
from tests.records.renewals import chronic_drug, chronic_patient

pytestmark = pytest.mark.django_db


def _refused_code(call) -> str:
    with pytest.raises(ClinicalRefused) as refused:
        call()
    return refused.value.code


def test_hypertension_and_diabetes_codes_are_chronic_and_a_doctor_may_mark_any_other():
    assert all(icd10_is_chronic(code) for code in ("I10", "I11.9", "I15.0", "E10", "E11.9", "E14"))
    assert not any(icd10_is_chronic(code) for code in ("I09", "I16", "E09", "E15", "J45", ""))
    assert Problem(description="哮喘", icd10_code="J45", marked_chronic=True).is_chronic
    assert not Problem(description="哮喘", icd10_code="J45").is_chronic


def test_the_family_asks_and_the_request_waits_in_the_prescribing_doctors_queue():
    case = chronic_patient()
    renewal = services.renewal_request(
        prescription=case.prescription, account=case.account, note="家里血压 130/85"
    )
    assert renewal.status == "pending"
    assert renewal.doctor == case.doctor
    assert renewal.problem == case.problem
    assert renewal_queue(user=case.doctor.user) == [renewal]
    assert renewal_queue(user=case.colleague.user) == []
    assert AuditEvent.objects.filter(action="renewal.request", actor=case.account).count() == 1


def test_a_prescription_holding_a_controlled_drug_is_refused_whole():
    controlled = Drug.objects.create(
        name="地西泮片", strength="2.5 mg", is_controlled=True, is_chronic_care=True
    )
    case = chronic_patient(drugs=[chronic_drug(), controlled])
    code = _refused_code(
        lambda: services.renewal_request(prescription=case.prescription, account=case.account)
    )
    assert code == "controlled"
    assert not RenewalRequest.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_a_drug_not_flagged_for_chronic_care_is_not_renewed_online():
    other, _ = Drug.objects.get_or_create(name="阿莫西林胶囊", strength="0.25 g")
    case = chronic_patient(drugs=[chronic_drug(), other])
    code = _refused_code(
        lambda: services.renewal_request(prescription=case.prescription, account=case.account)
    )
    assert code == "not_chronic_care"


def test_without_a_chronic_problem_there_is_no_renewal_until_a_doctor_marks_one():
    case = chronic_patient(icd10="J45")
    ask = lambda: services.renewal_request(  # noqa: E731
        prescription=case.prescription, account=case.account
    )
    assert _refused_code(ask) == "not_chronic"
    Problem.objects.filter(pk=case.problem.pk).update(marked_chronic=True)
    assert ask().status == "pending"


def test_at_most_once_per_days_of_supply_of_the_last_prescription():
    case = chronic_patient(days=30, signed_days_ago=0)
    signed = case.prescription.signed_at
    ask = lambda: services.renewal_request(  # noqa: E731
        prescription=case.prescription, account=case.account
    )
    with time_machine.travel(signed + dt.timedelta(days=29, hours=23), tick=False):
        with pytest.raises(ClinicalRefused) as refused:
            ask()
        assert refused.value.code == "too_soon"
        day = timezone.localtime(signed + dt.timedelta(days=30)).date()
        assert format_day(day) in " ".join(refused.value.messages)  # the one date format
    with time_machine.travel(signed + dt.timedelta(days=30, minutes=1), tick=False):
        renewal = ask()
        services.renewal_approve(renewal=renewal, by=case.doctor.user)
        renewed = Prescription.objects.get(prior=case.prescription)
        # The old one is renewed: its renewal is the one to renew, a full period later.
        assert _refused_code(ask) == "renewed"
        again = lambda: services.renewal_request(  # noqa: E731
            prescription=renewed, account=case.account
        )
        assert _refused_code(again) == "too_soon"
    with time_machine.travel(signed + dt.timedelta(days=60, minutes=2), tick=False):
        assert again().status == "pending"


def test_one_pending_request_at_a_time_per_prescription():
    case = chronic_patient()
    services.renewal_request(prescription=case.prescription, account=case.account)
    code = _refused_code(
        lambda: services.renewal_request(prescription=case.prescription, account=case.account)
    )
    assert code == "pending"
    assert RenewalRequest.objects.count() == 1


def test_an_account_that_does_not_act_for_the_person_is_refused():
    case = chronic_patient()
    stranger = UserFactory()
    reader_only = UserFactory()
    PatientLinkFactory(patient=case.patient, account=reader_only, can_book=False, is_manager=False)
    for account in (stranger, reader_only):
        code = _refused_code(
            lambda account=account: services.renewal_request(
                prescription=case.prescription, account=account
            )
        )
        assert code == "not_family"
    assert not RenewalRequest.objects.exists()


def test_approving_signs_a_new_prescription_linked_to_the_old_one():
    case = chronic_patient()
    renewal = services.renewal_request(prescription=case.prescription, account=case.account)
    services.renewal_approve(renewal=renewal, by=case.doctor.user)
    renewal.refresh_from_db()
    new = renewal.renewed
    assert renewal.status == "approved"
    assert new.prior == case.prescription and new.signed_at is not None
    assert new.prescriber == case.doctor.user
    assert new.encounter.mode == Encounter.Mode.RENEWAL and not new.encounter.is_open
    old_items = [
        (i.drug_id, i.dose, i.frequency, i.days, i.quantity) for i in case.prescription.items.all()
    ]
    new_items = [(i.drug_id, i.dose, i.frequency, i.days, i.quantity) for i in new.items.all()]
    assert new_items == old_items
    assert AuditEvent.objects.filter(action="renewal.approve", actor=case.doctor.user).exists()
    assert AuditEvent.objects.filter(action="prescription.sign", actor=case.doctor.user).exists()


def test_changing_edits_doses_and_amounts_then_signs():
    metformin = chronic_drug("二甲双胍片", "0.5 g", name_en="Metformin tablets")
    case = chronic_patient(icd10="E11.9", drugs=[metformin, chronic_drug()])
    renewal = services.renewal_request(prescription=case.prescription, account=case.account)
    services.renewal_approve(
        renewal=renewal,
        by=case.doctor.user,
        changes={
            0: {
                "dose": "2 片",
                "frequency": "每日两次",
                "days": "28",
                "quantity": "112",
                "keep": True,
            },
            1: {
                "dose": "1 片",
                "frequency": "每日一次",
                "days": "30",
                "quantity": "30",
                "keep": False,
            },
        },
    )
    renewal.refresh_from_db()
    assert renewal.status == "changed"
    [line] = renewal.renewed.items.all()
    assert (line.drug, line.dose, line.frequency, line.days, line.quantity) == (
        metformin,
        "2 片",
        "每日两次",
        28,
        112,
    )
    assert AuditEvent.objects.filter(action="renewal.change").exists()


def test_declining_asks_for_a_visit_with_a_message_and_a_booking_link():
    case = chronic_patient()
    renewal = services.renewal_request(prescription=case.prescription, account=case.account)
    assert (
        _refused_code(
            lambda: services.renewal_decline(renewal=renewal, by=case.doctor.user, message="")
        )
        == "message"
    )
    services.renewal_decline(
        renewal=renewal, by=case.doctor.user, message="血压控制不佳，请来门诊调整用药。"
    )
    renewal.refresh_from_db()
    assert renewal.status == "declined" and renewal.renewed is None
    row = OutboxMessage.objects.get(kind="renewal.declined", channel="sms")
    text = " ".join(message_render(kind=row.kind, params=row.params, language="en").sms)
    assert f"/doctors/{case.doctor.pk}/" in text
    assert "血压" not in text  # the doctor's words stay on the record, not in a text message
    assert AuditEvent.objects.filter(action="renewal.decline").exists()


def test_only_the_queue_it_waits_in_may_answer():
    case = chronic_patient()
    renewal = services.renewal_request(prescription=case.prescription, account=case.account)
    for user in (case.colleague.user, case.account, UserFactory()):
        code = _refused_code(lambda user=user: services.renewal_approve(renewal=renewal, by=user))
        assert code == "not_yours"
    services.renewal_approve(renewal=renewal, by=case.doctor.user)
    assert (
        _refused_code(lambda: services.renewal_approve(renewal=renewal, by=case.doctor.user))
        == "answered"
    )


def test_a_request_goes_to_the_department_when_the_prescribing_doctor_is_gone():
    case = chronic_patient()
    renewal = services.renewal_request(prescription=case.prescription, account=case.account)
    type(case.doctor).objects.filter(pk=case.doctor.pk).update(is_active=False)
    assert renewal_queue(user=case.doctor.user) == []
    assert renewal_queue(user=case.colleague.user) == [renewal]
    services.renewal_approve(renewal=renewal, by=case.colleague.user)
    renewal.refresh_from_db()
    assert renewal.renewed.prescriber == case.colleague.user
    assert renewal.renewed.encounter.doctor == case.colleague
    # A doctor of another department never sees it.
    assert _refused_code(
        lambda: services.renewal_decline(
            renewal=renewal, by=UserFactory(), message="请来门诊复查。"
        )
    ) in {"answered", "not_yours"}


def test_the_doctor_reads_the_record_while_the_request_waits_and_not_after():
    case = chronic_patient()
    assert not record_access(user=case.colleague.user, patient=case.patient).allowed
    renewal = services.renewal_request(prescription=case.prescription, account=case.account)
    # The prescribing doctor's grants from the old visit have ended; the request is the reason.
    from records.models import CareRelationship

    CareRelationship.objects.filter(patient=case.patient).delete()
    access = record_access(user=case.doctor.user, patient=case.patient)
    assert access.allowed and access.reason == "renewal"
    assert renewal_waits_for(user=case.doctor.user, patient=case.patient)
    assert not record_access(user=case.colleague.user, patient=case.patient).allowed
    services.renewal_decline(renewal=renewal, by=case.doctor.user, message="请来门诊复查。")
    assert not record_access(user=case.doctor.user, patient=case.patient).allowed


def test_every_step_is_told_to_the_family_in_app_and_by_sms_in_both_languages():
    case = chronic_patient()
    second = UserFactory()
    PatientLinkFactory(patient=case.patient, account=second, relationship="other", is_manager=False)
    renewal = services.renewal_request(prescription=case.prescription, account=case.account)
    services.renewal_approve(renewal=renewal, by=case.doctor.user)
    rows = OutboxMessage.objects.filter(kind__startswith="renewal.")
    assert {(row.kind, row.channel, row.account_id) for row in rows} == {
        (kind, channel, account.pk)
        for kind in ("renewal.requested", "renewal.approved")
        for channel in ("inapp", "sms")
        for account in (case.account, second)
    }
    row = rows.get(kind="renewal.approved", channel="inapp", account=case.account)
    zh = message_render(kind=row.kind, params=row.params, language="zh-hans")
    en = message_render(kind=row.kind, params=row.params, language="en")
    assert "赵桂兰" in zh.title and "(氨氯地平片 5 mg)" in zh.inbox
    assert en.title.startswith("Prescription renewed") and "Amlodipine" in en.inbox
    assert zh.title != en.title
    assert case.doctor.name_en in en.inbox and case.doctor.name in zh.inbox


def test_with_the_prescribing_doctor_gone_the_family_is_told_the_department_has_it():
    case = chronic_patient()
    type(case.doctor).objects.filter(pk=case.doctor.pk).update(is_active=False)
    services.renewal_request(prescription=case.prescription, account=case.account)
    row = OutboxMessage.objects.get(kind="renewal.requested", channel="inapp")
    en = message_render(kind=row.kind, params=row.params, language="en")
    assert "General practice" in en.inbox and case.doctor.name_en not in en.inbox


def test_each_text_message_fits_one_sms():
    case = chronic_patient()
    renewal = services.renewal_request(prescription=case.prescription, account=case.account)
    services.renewal_decline(renewal=renewal, by=case.doctor.user, message="请来门诊复查。")
    for row in OutboxMessage.objects.filter(channel="sms"):
        for language in ("zh-hans", "en"):
            rendered = message_render(kind=row.kind, params=row.params, language=language)
            assert len(rendered.sms) == 1, rendered.sms
