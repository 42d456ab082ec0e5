"""Racing requests: the account's row lock and the unique hash hold under concurrency.

Run on PostgreSQL too (select_for_update does nothing on SQLite, whose IMMEDIATE transactions
serialise writers instead).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from records import services
from records.idnumbers import make_id_number
from records.models import Patient, PatientLink
from tests.concurrency import race
from tests.factories import PatientLinkFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("races")]

RACERS = 6


def _add(account, *, sequence: int, birth: dt.date = dt.date(2015, 1, 1)):
    return lambda: services.patient_add(
        account=account,
        name="赛跑",
        sex="female",
        birth_date=birth,
        id_number=make_id_number(birth_date=birth, sex="female", sequence=sequence),
        relationship="child",
        consent_id_and_health_data=True,
    )


def test_racing_additions_never_give_an_account_a_seventh_person():
    account = UserFactory()
    PatientLinkFactory.create_batch(5, account=account)

    results = race([_add(account, sequence=100 + i) for i in range(RACERS)])

    assert sum(isinstance(r, Patient) for r in results) == 1
    assert all(
        isinstance(r, Patient) or getattr(r, "code", None) == "too_many_people" for r in results
    ), results
    assert PatientLink.objects.live().filter(account=account).count() == 6


def test_two_accounts_registering_the_same_person_at_once_get_one_record():
    accounts = [UserFactory() for _ in range(RACERS)]

    results = race([_add(account, sequence=42) for account in accounts])

    assert Patient.objects.count() == 1
    assert sum(isinstance(r, Patient) for r in results) == 1
    refusals = [r for r in results if not isinstance(r, Patient)]
    assert all(isinstance(r, ValidationError) for r in refusals), refusals
    assert {r.code for r in refusals} == {"already_registered"}
