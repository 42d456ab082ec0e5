"""Sockets obey the sign-in rules of the pages they serve (portal/socket_sign_in.py): the consult,
desk display and inbox sockets need a signed-in account, its second factor where
`requires_mfa` asks for it, and a session within its idle and absolute limits — refused with
4403 at connect, closed with 4401 when the sign-in ends while open. The doctor's live places
stay public. Through the real ASGI application; no pytest-asyncio (async_to_sync drives each
scenario, so database_sync_to_async runs on the test's own thread)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
from django.utils import timezone

from appointments.live import desk_display_changed, slot_places_changed
from portal import sessions
from portal.asgi import application
from telemedicine.models import ChatMessage
from tests.conftest import with_totp
from tests.factories import StaffMembershipFactory
from tests.telemedicine.consult_setup import open_room

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5
HEADERS = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


@pytest.fixture(autouse=True)
def _quick_checks(settings):
    settings.SOCKET_SESSION_CHECK_SECONDS = 0.2


@pytest.fixture(autouse=True)
def _own_channel_layer():
    """A layer of our own, dropped afterwards, so no socket of this test outlives its loop."""
    from channels.layers import channel_layers

    channel_layers.backends.pop("default", None)
    yield
    channel_layers.backends.pop("default", None)


def signed_in_session(user) -> str:
    """A session as a password sign-in leaves it (the clocks started now)."""
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store["_auth_user_backend"] = django_settings.AUTHENTICATION_BACKENDS[0]
    store["_auth_user_hash"] = user.get_session_auth_hash()
    sessions.session_begin(session=store, user=user)
    store.save()
    return store.session_key


async def open_socket(path: str, session_key: str | None) -> WebsocketCommunicator:
    headers = list(HEADERS)
    if session_key is not None:
        cookie = f"{django_settings.SESSION_COOKIE_NAME}={session_key}"
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    # A refused socket is accepted too, then closed (a close before accept is 1006 in browsers).
    assert connected, path
    return communicator


async def said_until_quiet(communicator: WebsocketCommunicator) -> list[dict]:
    """Everything the server says until it closes or falls silent (bounded)."""
    said = []
    while not await communicator.receive_nothing(timeout=0.5):
        output = await communicator.receive_output(timeout=TIMEOUT)
        said.append(output)
        if output["type"] == "websocket.close":
            break
    return said


async def close_code(communicator: WebsocketCommunicator) -> int:
    """The code the socket closes with, skipping what comes before; bounded by TIMEOUT a frame."""
    while True:
        output = await communicator.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            return output["code"]


async def first_push(communicator: WebsocketCommunicator, push) -> dict:
    """Push until the socket hears it: a consumer joins its group only after accepting, so a
    push sent at once may come before it listens (bounded: 20 tries)."""
    for _ in range(20):
        await database_sync_to_async(push)()
        if not await communicator.receive_nothing(timeout=0.5):
            break
    return await communicator.receive_json_from(timeout=TIMEOUT)


def closes(said: list[dict]) -> list[int]:
    return [o.get("code", 1000) for o in said if o["type"] == "websocket.close"]


def frames(said: list[dict]) -> list[dict]:
    return [json.loads(o["text"]) for o in said if o["type"] == "websocket.send" and o.get("text")]


def a_doctor_on_password_only():
    """An online consult open now, whose doctor is hospital staff (so MFA is required) and has
    not set up TOTP yet."""
    appointment, patient, doctor = open_room()
    doctor_row = appointment.slot.doctor
    StaffMembershipFactory(user=doctor, hospital=doctor_row.hospital, role="doctor")
    return appointment, patient, doctor


def consult_and_chat(path: str, session_key: str) -> list[dict]:
    async def scenario() -> list[dict]:
        communicator = await open_socket(path, session_key)
        try:
            said = []
            for frame in ({"type": "join"}, {"type": "chat", "text": "on a password alone"}):
                await communicator.send_json_to(frame)
                said += await said_until_quiet(communicator)
                if closes(said):
                    break
            return said
        finally:
            await communicator.disconnect()

    return async_to_sync(scenario)()


def test_a_doctor_without_a_second_factor_cannot_join_or_chat_on_the_consult_socket():
    appointment, _, doctor = a_doctor_on_password_only()
    path = f"/ws/consult/{appointment.consultation.public_id}/"

    said = consult_and_chat(path, signed_in_session(doctor))

    assert closes(said) == [4403]
    assert frames(said) == []  # not a word before the close: no presence, no history
    assert not ChatMessage.objects.filter(consultation=appointment.consultation).exists()


def test_the_same_doctor_with_a_second_factor_joins_and_chats():
    appointment, _, doctor = a_doctor_on_password_only()
    with_totp(doctor)
    path = f"/ws/consult/{appointment.consultation.public_id}/"

    said = consult_and_chat(path, signed_in_session(doctor))

    assert closes(said) == []
    assert "presence" in [f["type"] for f in frames(said)]
    assert ChatMessage.objects.filter(consultation=appointment.consultation).count() == 1


def first_output(path: str, session_key: str | None) -> dict:
    async def scenario() -> dict:
        communicator = await open_socket(path, session_key)
        try:
            return await communicator.receive_output(timeout=TIMEOUT)
        finally:
            await communicator.disconnect()

    return async_to_sync(scenario)()


def test_the_desk_display_and_inbox_sockets_refuse_staff_without_a_second_factor():
    appointment, _, doctor = a_doctor_on_password_only()
    hospital = appointment.slot.doctor.hospital
    clerk = StaffMembershipFactory(hospital=hospital, role="front_desk").user
    display = f"/ws/desk/display/{hospital.slug}/"

    for user, path in (
        (doctor, "/ws/notifications/"),
        (doctor, display),
        (clerk, "/ws/notifications/"),
        (clerk, display),
    ):
        output = first_output(path, signed_in_session(user))
        assert output == {"type": "websocket.close", "code": 4403}, (user, path)


def test_with_a_second_factor_the_inbox_and_the_desk_display_open():
    appointment, _, doctor = a_doctor_on_password_only()
    hospital = appointment.slot.doctor.hospital
    clerk = with_totp(StaffMembershipFactory(hospital=hospital, role="front_desk").user)
    with_totp(doctor)

    inbox = first_output("/ws/notifications/", signed_in_session(doctor))
    assert json.loads(inbox["text"]) == {"type": "inbox.unread", "unread": 0}

    async def display_hears_a_change() -> dict:
        session_key = await database_sync_to_async(signed_in_session)(clerk)
        communicator = await open_socket(f"/ws/desk/display/{hospital.slug}/", session_key)
        try:
            return await first_push(
                communicator,
                lambda: desk_display_changed(
                    site_id=hospital.pk, message={"type": "queue.changed"}
                ),
            )
        finally:
            await communicator.disconnect()

    assert async_to_sync(display_hears_a_change)() == {"type": "queue.changed"}


def test_a_session_past_its_idle_limit_is_refused_at_connect():
    appointment, patient, _ = open_room()
    session_key = signed_in_session(patient)
    idle = django_settings.SESSION_IDLE_SECONDS_PATIENT
    later = timezone.now() + dt.timedelta(seconds=idle + 60)

    with time_machine.travel(later, tick=True):
        for path in (f"/ws/consult/{appointment.consultation.public_id}/", "/ws/notifications/"):
            assert first_output(path, session_key) == {"type": "websocket.close", "code": 4403}

    # Within the limit the same session opens both: the clock, not the account, refused it.
    assert first_output("/ws/notifications/", session_key)["type"] == "websocket.send"


def test_an_open_socket_is_closed_with_4401_once_its_session_passes_the_idle_limit():
    _, patient, _ = open_room()
    session_key = signed_in_session(patient)
    idle = django_settings.SESSION_IDLE_SECONDS_PATIENT

    async def scenario() -> int:
        communicator = await open_socket("/ws/notifications/", session_key)
        try:
            assert (await communicator.receive_json_from(timeout=TIMEOUT))["type"] == "inbox.unread"
            later = timezone.now() + dt.timedelta(seconds=idle + 60)
            with time_machine.travel(later, tick=True):
                return await close_code(communicator)
        finally:
            await communicator.disconnect()

    assert async_to_sync(scenario)() == 4401


def test_removing_the_second_factor_closes_an_open_staff_socket_with_4401():
    _, _, doctor = a_doctor_on_password_only()
    with_totp(doctor)
    session_key = signed_in_session(doctor)

    async def scenario() -> int:
        communicator = await open_socket("/ws/notifications/", session_key)
        try:
            await communicator.receive_json_from(timeout=TIMEOUT)
            await database_sync_to_async(
                lambda: Authenticator.objects.filter(user=doctor).delete()
            )()
            return await close_code(communicator)
        finally:
            await communicator.disconnect()

    assert async_to_sync(scenario)() == 4401


def test_the_doctors_live_places_stay_public_for_an_anonymous_page():
    appointment, _, _ = open_room()
    slot = appointment.slot

    def figures_pushed() -> None:
        with transaction.atomic():
            slot_places_changed(slot=slot)

    async def scenario() -> dict:
        communicator = await open_socket(f"/ws/slots/doctor/{slot.doctor_id}/", None)
        try:
            return await first_push(communicator, figures_pushed)
        finally:
            await communicator.disconnect()

    message = async_to_sync(scenario)()
    assert message["type"] == "slot.places" and message["slot"] == slot.pk
