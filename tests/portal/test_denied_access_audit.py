"""A refusal is in the audit trail: a signed-in account that asks for somebody else's object
(a 404 from a real route, a 403) or opens a foreign consult socket leaves an `access.denied`."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tests.appointments.conftest import open_slot, person
from tests.conftest import with_totp
from tests.factories import UserFactory
from tests.sockets import TIMEOUT, async_test
from tests.telemedicine.conftest import consult_socket, room

pytestmark = pytest.mark.django_db


def denials(user) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="access.denied", actor=user))


def test_asking_for_another_familys_appointment_is_written_as_denied(client, alice):
    from appointments.services import appointment_book

    slot = open_slot()
    patient, owner = person()
    appointment = appointment_book(patient=patient, slot=slot, booked_by=owner)
    client.force_login(alice)

    page = client.get(reverse("appointment_detail", kwargs={"code": appointment.code}))

    assert page.status_code == 404
    [event] = denials(alice)
    assert event.result == "denied"
    assert event.data == {
        "view": "appointment_detail",
        "path": f"/appointments/{appointment.code}/",
        "method": "GET",
        "status": 404,
    }


def test_a_console_of_a_hospital_one_does_not_manage_is_written_as_denied(client):
    stranger = with_totp(UserFactory(is_staff=False))
    slot = open_slot()
    client.force_login(stranger)

    assert client.get(f"/manage/{slot.site.slug}/").status_code == 404
    assert [e.data["view"] for e in denials(stranger)] == ["console_hospital"]


def test_a_missing_route_or_an_anonymous_visitor_writes_nothing(client, alice):
    client.get("/no-such-page/")
    client.force_login(alice)
    client.get("/no-such-page/")
    Client().get(reverse("appointment_detail", kwargs={"code": "NOPE1234"}))

    assert not AuditEvent.objects.filter(action="access.denied").exists()


def test_a_post_without_the_csrf_token_is_written_as_denied(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.post(reverse("patient_add"), {}).status_code == 403
    assert [e.data["status"] for e in denials(alice)] == [403]


@pytest.mark.django_db(transaction=True)
@async_test
async def test_a_foreign_consult_socket_is_written_as_denied():
    public_id, _patient, _doctor, _appointment = await room()
    stranger = await database_sync_to_async(UserFactory)()

    communicator = await consult_socket(public_id, stranger)
    closed = await communicator.receive_output(timeout=TIMEOUT)
    await communicator.disconnect()

    assert closed["code"] == 4403
    [event] = await database_sync_to_async(denials)(stranger)
    assert event.data["view"] == "consult_socket"
