"""Services never see the request: the audit context middleware hands the trail the client's
address and the request's id (DESIGN.md §2); a socket does the same for its connection, and an
event written outside any request (a task, a command) carries neither."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import iscoroutinefunction, sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.http import HttpResponse
from django.test import AsyncClient, RequestFactory, override_settings
from django.urls import reverse

from audit.context import audit_context, current_audit_context
from audit.models import AuditEvent
from audit.services import audit_record
from records.services import consent_give
from tests.factories import PatientLinkFactory, UserFactory
from tests.sockets import ORIGIN_HEADERS, TIMEOUT, async_test, session_key_for
from tests.telemedicine.conftest import room

pytestmark = pytest.mark.django_db

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def child(alice):
    return PatientLinkFactory(account=alice).patient


def _give(client, child, kind: str, **headers):
    """The consent page's form: a view that calls `consent_give`, which writes `consent.give`."""
    response = client.post(
        reverse("consent_give", args=[child.public_id]), {"kind": kind}, **headers
    )
    assert response.status_code == 302
    return AuditEvent.objects.get(action="consent.give", data__kind=kind)


def test_an_event_written_by_a_service_during_a_request_carries_its_address_and_id(
    client, alice, child
):
    client.force_login(alice)

    event = _give(client, child, "record_sharing", REMOTE_ADDR="198.51.100.7")

    assert event.ip_address == "198.51.100.7"
    assert GENERATED_ID.fullmatch(event.request_id)


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(client, alice, child):
    client.force_login(alice)

    event = _give(
        client,
        child,
        "record_sharing",
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="203.0.113.5",
        HTTP_X_REQUEST_ID="forged-by-the-client",
    )

    assert event.ip_address == "198.51.100.7"
    assert GENERATED_ID.fullmatch(event.request_id)


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_trusted_proxy_the_address_it_appended_and_its_request_id_are_kept_once(
    client, alice, child
):
    client.force_login(alice)

    # The client forged the first entry; our proxy appended the address it saw.
    behind = _give(
        client,
        child,
        "record_sharing",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="192.0.2.66, 203.0.113.5",
        HTTP_X_REQUEST_ID="edge-4f2a",
    )
    # The next request, without the headers, inherits nothing from the one before.
    direct = _give(client, child, "telemedicine", REMOTE_ADDR="10.0.0.3")

    assert (behind.ip_address, behind.request_id) == ("203.0.113.5", "edge-4f2a")
    assert direct.ip_address == "10.0.0.3"
    assert GENERATED_ID.fullmatch(direct.request_id)
    assert current_audit_context() is None


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_malformed_forwarded_address_or_request_id_falls_back_to_what_we_know(
    client, alice, child
):
    client.force_login(alice)

    event = _give(
        client,
        child,
        "record_sharing",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="unknown",
        HTTP_X_REQUEST_ID="no spaces or\nnewlines",
    )

    assert event.ip_address == "10.0.0.2"
    assert GENERATED_ID.fullmatch(event.request_id)


@override_settings(TRUSTED_PROXY_COUNT=1)
@pytest.mark.django_db(transaction=True)
@async_test
async def test_an_async_request_carries_the_context_into_the_view_and_leaves_none_behind():
    alice = await database_sync_to_async(UserFactory)(email="alice@example.com")
    child = (await database_sync_to_async(PatientLinkFactory)(account=alice)).patient
    client = AsyncClient()
    await client.aforce_login(alice)

    response = await client.post(
        reverse("consent_give", args=[child.public_id]),
        {"kind": "record_sharing"},
        headers={"X-Forwarded-For": "198.51.100.9", "X-Request-ID": "edge-77"},
    )

    assert response.status_code == 302
    event = await AuditEvent.objects.aget(action="consent.give")
    assert (event.ip_address, event.request_id) == ("198.51.100.9", "edge-77")
    assert current_audit_context() is None
    assert await sync_to_async(current_audit_context)() is None


@async_test
async def test_the_middleware_in_an_async_chain_sets_the_context_for_the_view_and_resets_it():
    from portal.middleware import AuditContextMiddleware

    seen = []

    async def view(request):
        seen.append(current_audit_context())
        return HttpResponse()

    middleware = AuditContextMiddleware(view)
    await middleware(RequestFactory().get("/", REMOTE_ADDR="192.0.2.8"))

    assert iscoroutinefunction(middleware)
    assert seen[0].ip_address == "192.0.2.8"
    assert current_audit_context() is None


def test_a_service_called_outside_any_request_writes_no_address(alice, child):
    consent_give(patient=child, account=alice, kind="record_sharing")

    event = AuditEvent.objects.get(action="consent.give")
    assert (event.ip_address, event.request_id) == (None, "")


def test_the_context_holds_only_inside_its_block(alice):
    with audit_context(ip_address="192.0.2.1", request_id="job-1"):
        inside = audit_record(actor=alice, action="account.example")
    outside = audit_record(actor=alice, action="account.example")

    assert (inside.ip_address, inside.request_id) == ("192.0.2.1", "job-1")
    assert (outside.ip_address, outside.request_id) == (None, "")


@pytest.mark.django_db(transaction=True)
@async_test
async def test_a_socket_event_carries_the_address_of_its_connection():
    from portal.asgi import application

    public_id, _patient, _doctor, _appointment = await room()
    stranger = await database_sync_to_async(UserFactory)()
    session_key = await database_sync_to_async(session_key_for)(stranger)
    cookie = (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode())
    communicator = WebsocketCommunicator(
        application, f"/ws/consult/{public_id}/", headers=[*ORIGIN_HEADERS, cookie]
    )
    communicator.scope["client"] = ["192.0.2.44", 51000]

    connected, _ = await communicator.connect(timeout=TIMEOUT)
    closed = await communicator.receive_output(timeout=TIMEOUT)
    await communicator.disconnect()

    assert connected and closed["code"] == 4403
    event = await AuditEvent.objects.aget(action="access.denied", actor=stranger)
    assert event.data == {"view": "consult_socket", "path": f"/ws/consult/{public_id}/"}
    assert event.ip_address == "192.0.2.44"
    assert GENERATED_ID.fullmatch(event.request_id)
