"""An open consult socket lives only as long as the sign-in behind it, and a call in progress
keeps that sign-in active (portal/socket_sign_in.py, the middleware every socket passes)."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import reverse

from portal import sessions
from tests.sockets import async_test, close_code
from tests.telemedicine.conftest import joined, open_room

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("quick_socket_checks"),
]

MINUTE = 60


@database_sync_to_async
def room_with_a_signed_in(side: str):
    """An open room and a Client signed in as its patient or its doctor (the session a browser
    would have, with the sign-in clocks of a real sign-in): (public id, account, client)."""
    appointment, patient, doctor = open_room()
    account = patient if side == "patient" else doctor
    client = Client()
    client.force_login(account)
    return appointment.consultation.public_id, account, client


def session_of(client: Client) -> str:
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


async def closed_after(public_id, client: Client, end_sign_in) -> int:
    """Join the consult with the client's session, end the sign-in, and read the close code."""
    communicator = await joined(public_id, session_key=session_of(client))
    try:
        await database_sync_to_async(end_sign_in)()
        return await close_code(communicator)
    finally:
        await communicator.disconnect()


@async_test
async def test_the_socket_closes_soon_after_its_account_signs_out():
    public_id, _, client = await room_with_a_signed_in("patient")

    code = await closed_after(public_id, client, lambda: client.post(reverse("account_logout")))

    assert code == 4401


@async_test
async def test_the_socket_closes_soon_after_a_password_change_elsewhere():
    public_id, patient, client = await room_with_a_signed_in("patient")

    def change_password():
        patient.set_password("a-new-password-2026")
        patient.save()

    assert await closed_after(public_id, client, change_password) == 4401


@async_test
async def test_the_socket_closes_soon_after_the_account_is_deactivated():
    public_id, doctor, client = await room_with_a_signed_in("doctor")

    def deactivate():
        doctor.is_active = False
        doctor.save(update_fields=["is_active"])

    assert await closed_after(public_id, client, deactivate) == 4401


@async_test
async def test_a_session_already_past_its_idle_limit_loses_its_socket():
    public_id, _, client = await room_with_a_signed_in("doctor")

    def idle_past_the_limit():
        store = SessionStore(session_of(client))
        store[sessions.ACTIVE_AT] = time.time() - store[sessions.IDLE_LIMIT] - MINUTE
        store.save()

    assert await closed_after(public_id, client, idle_past_the_limit) == 4401


@async_test
async def test_a_doctor_in_a_call_stays_signed_in_past_the_idle_limit_of_their_pages():
    public_id, doctor, client = await room_with_a_signed_in("doctor")
    session_key = session_of(client)

    def one_minute_left_on_the_pages_clock():
        store = SessionStore(session_key)
        store[sessions.ACTIVE_AT] = time.time() - 14 * MINUTE
        store.save()

    def active_at() -> float:
        return SessionStore(session_key).get(sessions.ACTIVE_AT)

    await database_sync_to_async(one_minute_left_on_the_pages_clock)()
    communicator = await joined(public_id, session_key=session_key)
    try:
        for _ in range(50):  # bounded: the socket's check runs every 0.2 s
            last_active = await database_sync_to_async(active_at)()
            if time.time() - last_active < MINUTE:
                break
            await asyncio.sleep(0.2)
    finally:
        await communicator.disconnect()

    assert time.time() - last_active < MINUTE
    signed_in_as = await database_sync_to_async(
        lambda: SessionStore(session_key).get("_auth_user_id")
    )()
    assert signed_in_as == str(doctor.pk)
