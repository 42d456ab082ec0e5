"""Repeat prescriptions in FHIR (issue 20): the renewed MedicationRequest names the old one
(`priorPrescription`) and the family's request it answers (`basedOn`), which is itself in
$everything as a MedicationRequest of intent "proposal"; all valid R4B."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from records import services
from records.models import Prescription
from tests.fhir.conftest import body, entries, validate
from tests.fhir.test_fhir_record import bearer
from tests.records.renewals import chronic_drug, chronic_patient

pytestmark = pytest.mark.django_db


def _everything(client, case, headers) -> dict:
    response = client.get(f"/fhir/Patient/{case.patient.public_id}/$everything", **headers)
    assert response.status_code == 200, response.content
    bundle = body(response)
    validate(bundle)
    for resource in entries(bundle):
        validate(resource)
    return bundle


def test_a_renewal_names_its_prior_prescription_and_the_request_it_answers(client):
    metformin = chronic_drug("二甲双胍片", "0.5 g", name_en="Metformin tablets")
    case = chronic_patient(icd10="E11.9", drugs=[chronic_drug(), metformin])
    old = case.prescription
    renewal = services.renewal_request(prescription=old, account=case.account, note="血糖稳定")
    services.renewal_approve(
        renewal=renewal,
        by=case.doctor.user,
        changes={
            0: {
                "dose": "1 片",
                "frequency": "每日一次",
                "days": "30",
                "quantity": "30",
                "keep": False,
            }
        },
    )
    renewal.refresh_from_db()
    new = renewal.renewed
    requests = entries(_everything(client, case, bearer(case.account)), "MedicationRequest")
    by_id = {resource["id"]: resource for resource in requests}

    # The old order (two lines), the proposal (two lines), the new order (metformin only).
    assert {f"{old.public_id}-1", f"{old.public_id}-2"} <= set(by_id)
    proposal = by_id[f"{renewal.public_id}-2"]
    assert proposal["intent"] == "proposal" and proposal["status"] == "completed"
    assert proposal["priorPrescription"]["reference"] == f"MedicationRequest/{old.public_id}-2"
    assert proposal["note"] == [{"text": "血糖稳定"}]
    order = by_id[f"{new.public_id}-1"]
    assert order["intent"] == "order" and "二甲双胍片" in order["medicationCodeableConcept"]["text"]
    assert order["priorPrescription"]["reference"] == f"MedicationRequest/{old.public_id}-2"
    assert order["basedOn"] == [{"reference": f"MedicationRequest/{renewal.public_id}-2"}]
    assert "priorPrescription" not in by_id[f"{old.public_id}-1"]


def test_a_waiting_request_is_an_active_proposal_and_a_declined_one_is_cancelled(client):
    case = chronic_patient()
    renewal = services.renewal_request(prescription=case.prescription, account=case.account)
    [proposal] = [
        r
        for r in entries(_everything(client, case, bearer(case.account)), "MedicationRequest")
        if r["intent"] == "proposal"
    ]
    assert proposal["status"] == "active"
    services.renewal_decline(renewal=renewal, by=case.doctor.user, message="请来门诊复查血压。")
    [proposal] = [
        r
        for r in entries(_everything(client, case, bearer(case.account)), "MedicationRequest")
        if r["intent"] == "proposal"
    ]
    assert proposal["status"] == "cancelled" and proposal["statusReason"]["text"]


def test_everything_with_renewals_runs_a_fixed_number_of_queries(client, django_assert_num_queries):
    case = chronic_patient()
    headers = bearer(case.account)
    renewal = services.renewal_request(prescription=case.prescription, account=case.account)
    services.renewal_approve(renewal=renewal, by=case.doctor.user)
    _everything(client, case, headers)  # warm the token's last use
    # The same count with one renewal as with four: the requests' items and drugs and the
    # renewals' prior items are one query each, whatever their number.
    with django_assert_num_queries(20):
        _everything(client, case, headers)
    for _ in range(3):
        case.prescription = case.prescription.renewed_by.get()
        Prescription.objects.filter(pk=case.prescription.pk).update(
            signed_at=timezone.now() - dt.timedelta(days=40)
        )
        renewal = services.renewal_request(prescription=case.prescription, account=case.account)
        services.renewal_approve(renewal=renewal, by=case.doctor.user)
    with django_assert_num_queries(20):
        _everything(client, case, headers)
