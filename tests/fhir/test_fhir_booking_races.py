"""Racing API clients (PostgreSQL, one xdist group with the other races)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.services import access_token_create
from appointments.models import Appointment
from tests.appointments.conftest import counters_hold, open_slot, person
from tests.concurrency import race
from tests.fhir.conftest import FHIR

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("races")]


def _poster(slot, patient, account, key: str = ""):
    _token, secret = access_token_create(owner=account, name="racer", days=7)
    payload = json.dumps(
        {
            "resourceType": "Appointment",
            "slot": [{"reference": f"Slot/{slot.pk}"}],
            "participant": [{"actor": {"reference": f"Patient/{patient.public_id}"}}],
        }
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key

    def post():
        response = Client().post("/fhir/Appointment", payload, content_type=FHIR, **headers)
        return response.status_code, json.loads(response.content)

    return post


def test_twelve_clients_for_the_last_place_one_books_the_rest_hear_409():
    slot = open_slot(capacity=1)
    people = [person() for _index in range(12)]

    results = race([_poster(slot, p, a) for p, a in people])

    statuses = sorted(status for status, _body in results)
    assert statuses == [201] + [409] * 11, results
    refusals = [body for status, body in results if status == 409]
    assert {r["issue"][0]["details"]["coding"][0]["code"] for r in refusals} == {"slot_full"}
    assert Appointment.objects.filter(slot=slot).count() == 1
    counters_hold(slot)


def test_one_client_retrying_with_the_same_key_books_once():
    slot = open_slot(capacity=5)
    patient, account = person()
    calls = [_poster(slot, patient, account, key="double-tap") for _index in range(6)]

    results = race(calls)

    assert {status for status, _body in results} <= {200, 201}, results
    assert len({body["id"] for _status, body in results}) == 1
    assert Appointment.objects.filter(slot=slot).count() == 1
    counters_hold(slot)
