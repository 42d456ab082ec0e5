"""Sockets obey the sign-in rules of the pages they serve (portal/socket_sign_in.py): the consult,
desk display and inbox sockets need a signed-in account, its second factor where
`requires_mfa` asks for it, and a session within its idle and absolute limits — refused with
4403 at connect, closed with 4401 when the sign-in ends while open. The doctor's live places
stay public. Through the real ASGI application, with the harness of tests/sockets.py."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from appointments.live import desk_display_changed, slot_places_changed
from telemedicine.models import ChatMessage
from tests.conftest import with_totp
from tests.factories import StaffMembershipFactory
from tests.sockets import (
    TIMEOUT,
    async_test,
    close_code,
    open_socket,
    said_until_quiet,
    session_key_for,
)
from tests.telemedicine.conftest import open_room

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("quick_socket_checks", "own_channel_layer"),
]


@database_sync_to_async
def signed_in_session(user) -> str:
    """A session as a password sign-in leaves it (the clocks started now)."""
    return session_key_for(user, clocks_started=True)


async def first_push(communicator, push) -> dict:
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


@database_sync_to_async
def a_doctor_on_password_only(*, totp: bool = False):
    """An online consult open now, whose doctor is hospital staff (so MFA is required) and has
    not set up TOTP yet (unless `totp`): (appointment, patient, doctor, consult path, hospital)."""
    appointment, patient, doctor = open_room()
    doctor_row = appointment.slot.doctor
    StaffMembershipFactory(user=doctor, hospital=doctor_row.hospital, role="doctor")
    if totp:
        with_totp(doctor)
    path = f"/ws/consult/{appointment.consultation.public_id}/"
    return appointment, patient, doctor, path, doctor_row.hospital


async def consult_and_chat(path: str, session_key: str) -> list[dict]:
    communicator = await open_socket(path, session_key=session_key)
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


@database_sync_to_async
def a_patient_in_an_open_room():
    """An online consult open now: (consult path, patient account, the slot)."""
    appointment, patient, _ = open_room()
    return f"/ws/consult/{appointment.consultation.public_id}/", patient, appointment.slot


def chats_in(appointment):
    return database_sync_to_async(
        lambda: ChatMessage.objects.filter(consultation=appointment.consultation).count()
    )()


@async_test
async def test_a_doctor_without_a_second_factor_cannot_join_or_chat_on_the_consult_socket():
    appointment, _, doctor, path, _ = await a_doctor_on_password_only()

    said = await consult_and_chat(path, await signed_in_session(doctor))

    assert closes(said) == [4403]
    assert frames(said) == []  # not a word before the close: no presence, no history
    assert await chats_in(appointment) == 0


@async_test
async def test_the_same_doctor_with_a_second_factor_joins_and_chats():
    appointment, _, doctor, path, _ = await a_doctor_on_password_only(totp=True)

    said = await consult_and_chat(path, await signed_in_session(doctor))

    assert closes(said) == []
    assert "presence" in [f["type"] for f in frames(said)]
    assert await chats_in(appointment) == 1


async def first_output(path: str, session_key: str | None) -> dict:
    communicator = await open_socket(path, session_key=session_key)
    try:
        return await communicator.receive_output(timeout=TIMEOUT)
    finally:
        await communicator.disconnect()


@async_test
async def test_the_desk_display_and_inbox_sockets_refuse_staff_without_a_second_factor():
    _, _, doctor, _, hospital = await a_doctor_on_password_only()
    clerk = await database_sync_to_async(
        lambda: StaffMembershipFactory(hospital=hospital, role="front_desk").user
    )()
    display = f"/ws/desk/display/{hospital.slug}/"

    for user, path in (
        (doctor, "/ws/notifications/"),
        (doctor, display),
        (clerk, "/ws/notifications/"),
        (clerk, display),
    ):
        output = await first_output(path, await signed_in_session(user))
        assert output == {"type": "websocket.close", "code": 4403}, (user, path)


@async_test
async def test_with_a_second_factor_the_inbox_and_the_desk_display_open():
    _, _, doctor, _, hospital = await a_doctor_on_password_only(totp=True)
    clerk = await database_sync_to_async(
        lambda: with_totp(StaffMembershipFactory(hospital=hospital, role="front_desk").user)
    )()

    inbox = await first_output("/ws/notifications/", await signed_in_session(doctor))
    assert json.loads(inbox["text"]) == {"type": "inbox.unread", "unread": 0}

    communicator = await open_socket(
        f"/ws/desk/display/{hospital.slug}/", session_key=await signed_in_session(clerk)
    )
    try:
        heard = await first_push(
            communicator,
            lambda: desk_display_changed(site_id=hospital.pk, message={"type": "queue.changed"}),
        )
    finally:
        await communicator.disconnect()
    assert heard == {"type": "queue.changed"}


@async_test
async def test_a_session_past_its_idle_limit_is_refused_at_connect():
    consult, patient, _ = await a_patient_in_an_open_room()
    session_key = await signed_in_session(patient)
    idle = django_settings.SESSION_IDLE_SECONDS_PATIENT
    later = timezone.now() + dt.timedelta(seconds=idle + 60)

    with time_machine.travel(later, tick=True):
        for path in (consult, "/ws/notifications/"):
            assert await first_output(path, session_key) == {
                "type": "websocket.close",
                "code": 4403,
            }

    # Within the limit the same session opens both: the clock, not the account, refused it.
    assert (await first_output("/ws/notifications/", session_key))["type"] == "websocket.send"


@async_test
async def test_an_open_socket_is_closed_with_4401_once_its_session_passes_the_idle_limit():
    _, patient, _ = await a_patient_in_an_open_room()
    session_key = await signed_in_session(patient)
    idle = django_settings.SESSION_IDLE_SECONDS_PATIENT

    communicator = await open_socket("/ws/notifications/", session_key=session_key)
    try:
        assert (await communicator.receive_json_from(timeout=TIMEOUT))["type"] == "inbox.unread"
        later = timezone.now() + dt.timedelta(seconds=idle + 60)
        with time_machine.travel(later, tick=True):
            code = await close_code(communicator)
    finally:
        await communicator.disconnect()
    assert code == 4401


@async_test
async def test_removing_the_second_factor_closes_an_open_staff_socket_with_4401():
    _, _, doctor, _, _ = await a_doctor_on_password_only(totp=True)
    session_key = await signed_in_session(doctor)

    communicator = await open_socket("/ws/notifications/", session_key=session_key)
    try:
        await communicator.receive_json_from(timeout=TIMEOUT)
        await database_sync_to_async(lambda: Authenticator.objects.filter(user=doctor).delete())()
        code = await close_code(communicator)
    finally:
        await communicator.disconnect()
    assert code == 4401


@async_test
async def test_the_doctors_live_places_stay_public_for_an_anonymous_page():
    _, _, slot = await a_patient_in_an_open_room()

    def figures_pushed() -> None:
        with transaction.atomic():
            slot_places_changed(slot=slot)

    communicator = await open_socket(f"/ws/slots/doctor/{slot.doctor_id}/")
    try:
        message = await first_push(communicator, figures_pushed)
    finally:
        await communicator.disconnect()
    assert message["type"] == "slot.places" and message["slot"] == slot.pk
