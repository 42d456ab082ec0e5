"""Racing renewals (issue 20): ten double clicks on "Send the request" make one request; a
doctor and a colleague answering at once (the prescribing doctor just left) sign one renewal."""

from __future__ import annotations

import pytest

from hospitals.models import Doctor
from records import services
from records.errors import ClinicalRefused
from records.models import Prescription, RenewalRequest
from tests.concurrency import race
from tests.records.renewals import chronic_patient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("races")]


def test_ten_racing_requests_for_one_prescription_make_exactly_one():
    case = chronic_patient()
    results = race(
        [
            lambda: services.renewal_request(prescription=case.prescription, account=case.account)
            for _ in range(10)
        ]
    )
    made = [r for r in results if isinstance(r, RenewalRequest)]
    refused = [r for r in results if isinstance(r, ClinicalRefused)]
    assert len(made) == 1 and len(refused) == 9, results
    assert {r.code for r in refused} == {"pending"}
    assert RenewalRequest.objects.count() == 1


def test_two_doctors_answering_at_once_sign_one_renewal():
    case = chronic_patient()
    renewal = services.renewal_request(prescription=case.prescription, account=case.account)
    Doctor.objects.filter(pk=case.doctor.pk).update(is_active=False)
    other = Doctor.objects.create(
        name="医生丙",
        hospital=case.colleague.hospital,
        department=case.colleague.department,
        title="attending",
        user=type(case.account).objects.create_user(email="c@example.com", password="x"),
    )
    results = race(
        [
            lambda: services.renewal_approve(renewal=renewal, by=case.colleague.user),
            lambda: services.renewal_approve(renewal=renewal, by=other.user),
        ]
    )
    assert sum(isinstance(r, RenewalRequest) for r in results) == 1, results
    assert Prescription.objects.filter(prior=case.prescription).count() == 1
