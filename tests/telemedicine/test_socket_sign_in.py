"""An open consult socket lives only as long as the sign-in behind it, and a call in progress
keeps that sign-in active (portal/socket_sign_in.py, the middleware every socket passes)."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import reverse

from portal import sessions
from portal.asgi import application
from tests.telemedicine.consult_setup import open_room

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5
MINUTE = 60


@pytest.fixture(autouse=True)
def _quick_checks(settings):
    settings.SOCKET_SESSION_CHECK_SECONDS = 0.2


def signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def joined_socket(public_id, client: Client) -> WebsocketCommunicator:
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    headers = [
        (b"origin", b"http://127.0.0.1"),
        (b"host", b"127.0.0.1"),
        (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={cookie}".encode()),
    ]
    communicator = WebsocketCommunicator(application, f"/ws/consult/{public_id}/", headers=headers)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    await communicator.send_json_to({"type": "join"})
    while (await communicator.receive_json_from(timeout=TIMEOUT))["type"] != "presence":
        pass
    return communicator


async def close_code(communicator: WebsocketCommunicator) -> int:
    """The code the socket closes with; other frames on the way are skipped (bounded)."""
    while True:
        output = await communicator.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            return output["code"]


def run_until_closed(public_id, client: Client, end_sign_in) -> int:
    async def scenario() -> int:
        communicator = await joined_socket(public_id, client)
        try:
            await database_sync_to_async(end_sign_in)()
            return await close_code(communicator)
        finally:
            await communicator.disconnect()

    return async_to_sync(scenario)()


def test_the_socket_closes_soon_after_its_account_signs_out():
    appointment, patient, _ = open_room()
    client = signed_in_client(patient)

    code = run_until_closed(
        appointment.consultation.public_id, client, lambda: client.post(reverse("account_logout"))
    )

    assert code == 4401


def test_the_socket_closes_soon_after_a_password_change_elsewhere():
    appointment, patient, _ = open_room()
    client = signed_in_client(patient)

    def change_password():
        patient.set_password("a-new-password-2026")
        patient.save()

    assert run_until_closed(appointment.consultation.public_id, client, change_password) == 4401


def test_the_socket_closes_soon_after_the_account_is_deactivated():
    appointment, _, doctor = open_room()
    client = signed_in_client(doctor)

    def deactivate():
        doctor.is_active = False
        doctor.save(update_fields=["is_active"])

    assert run_until_closed(appointment.consultation.public_id, client, deactivate) == 4401


def test_a_session_already_past_its_idle_limit_loses_its_socket():
    appointment, _, doctor = open_room()
    client = signed_in_client(doctor)

    def idle_past_the_limit():
        store = SessionStore(client.session.session_key)
        store[sessions.ACTIVE_AT] = time.time() - store[sessions.IDLE_LIMIT] - MINUTE
        store.save()

    assert run_until_closed(appointment.consultation.public_id, client, idle_past_the_limit) == 4401


def test_a_doctor_in_a_call_stays_signed_in_past_the_idle_limit_of_their_pages():
    appointment, _, doctor = open_room()
    client = signed_in_client(doctor)
    session_key = client.session.session_key
    store = SessionStore(session_key)
    store[sessions.ACTIVE_AT] = time.time() - 14 * MINUTE  # one minute left on the pages' clock
    store.save()

    async def scenario() -> float:
        communicator = await joined_socket(appointment.consultation.public_id, client)
        try:
            for _ in range(50):  # bounded: the socket's check runs every 0.2 s
                active_at = await database_sync_to_async(
                    lambda: SessionStore(session_key).get(sessions.ACTIVE_AT)
                )()
                if time.time() - active_at < MINUTE:
                    return active_at
                await asyncio.sleep(0.2)
            return active_at
        finally:
            await communicator.disconnect()

    active_at = async_to_sync(scenario)()

    assert time.time() - active_at < MINUTE
    assert SessionStore(session_key).get("_auth_user_id") == str(doctor.pk)
