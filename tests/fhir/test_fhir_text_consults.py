"""Text consult messages (图文问诊) in $everything as FHIR Communication, valid in R4B."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from telemedicine.services_text import (
    text_consult_ask_to_book,
    text_consult_open,
    text_consult_reply,
)
from tests.factories import UserFactory
from tests.fhir.conftest import body, entries, validate
from tests.fhir.test_fhir_record import bearer
from tests.telemedicine.text import photo, text_world

pytestmark = pytest.mark.django_db


def _thread():
    world = text_world()
    consult = text_consult_open(
        patient=world.child,
        doctor=world.doctor,
        by=world.parent,
        question="手臂起红疹三天",
        photos=[photo()],
    )
    text_consult_reply(consult=consult, by=world.doctor_user, text="像是湿疹，请视频复诊。")
    text_consult_ask_to_book(consult=consult, by=world.doctor_user, mode="online")
    return world, consult


def _everything(client, world, account):
    response = client.get(f"/fhir/Patient/{world.child.public_id}/$everything", **bearer(account))
    return response


def test_each_message_is_a_valid_communication_in_everything(client):
    world, consult = _thread()
    bundle = body(_everything(client, world, world.parent))
    validate(bundle)
    messages = entries(bundle, "Communication")
    assert len(messages) == 3
    for resource in messages:
        validate(resource)
        assert resource["encounter"]["reference"] == f"Encounter/{consult.encounter.public_id}"
    question, answer, book = messages
    assert question["payload"][0]["contentString"] == "手臂起红疹三天"
    assert question["payload"][1]["contentAttachment"]["contentType"] == "image/jpeg"
    assert question["recipient"][0]["reference"] == f"Practitioner/{world.doctor.pk}"
    assert answer["sender"]["reference"] == f"Practitioner/{world.doctor.pk}"
    assert len(book["payload"]) == 1
    encounters = {e["id"] for e in entries(bundle, "Encounter")}
    assert str(consult.encounter.public_id) in encounters


def test_the_consulted_doctor_reads_them_and_a_stranger_gets_a_404(client):
    world, _consult = _thread()
    doctor_bundle = body(_everything(client, world, world.doctor_user))
    assert len(entries(doctor_bundle, "Communication")) == 3
    assert _everything(client, world, UserFactory()).status_code == 404


def test_more_messages_and_photos_cost_no_more_queries(client):
    world, consult = _thread()
    headers = bearer(world.parent)
    path = f"/fhir/Patient/{world.child.public_id}/$everything"
    client.get(path, **headers)
    with CaptureQueriesContext(connection) as first:
        client.get(path, **headers)
    for _ in range(3):
        text_consult_reply(consult=consult, by=world.parent, text="还有", photos=[photo()])
    with CaptureQueriesContext(connection) as more:
        response = client.get(path, **headers)
    assert len(more.captured_queries) <= len(first.captured_queries)
    assert len(entries(body(response), "Communication")) == 6
