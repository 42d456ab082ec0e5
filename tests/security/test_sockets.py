"""The WebSocket half of the matrix: every socket route × every role × every message type of
the consult protocol, through the real ASGI application. A socket a role may not open is closed
with the policy's code before anything is said; no frame to anybody carries a canary the role
may not see; the doctor's own message types do nothing for the patient."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from portal.asgi import application
from telemedicine.consumers import SCHEMAS
from telemedicine.models import Consultation
from tests.security.matrix import resolve
from tests.security.policy import WEBSOCKETS
from tests.security.routes import websocket_routes
from tests.security.world import ROLES, build_world

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5
FRAMES = {
    "join": {"type": "join"},
    "offer": {"type": "offer", "sdp": "v=0"},
    "answer": {"type": "answer", "sdp": "v=0"},
    "ice": {"type": "ice", "candidate": {"candidate": ""}},
    "chat": {"type": "chat", "text": "hello"},
    "admit": {"type": "admit"},
    "end": {"type": "end"},
    "leave": {"type": "leave"},
}


@pytest.fixture(autouse=True)
def _own_channel_layer():
    """A layer of our own, dropped afterwards: a socket cut short here must not leave a lock
    of this test's event loop in the layer the next test uses."""
    from channels.layers import channel_layers

    channel_layers.backends.pop("default", None)
    yield
    channel_layers.backends.pop("default", None)


def _cookie(user) -> bytes:
    from django.conf import settings

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store["_auth_user_backend"] = settings.AUTHENTICATION_BACKENDS[0]
    store["_auth_user_hash"] = user.get_session_auth_hash()
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}".encode()


async def _open(path: str, user) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(_cookie)(user)))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    # A refused socket is accepted too, then closed at once with its code (DESIGN.md §4).
    assert connected, path
    return communicator


async def _outputs(communicator: WebsocketCommunicator, quiet: float = 0.5) -> list[dict]:
    """Everything the server says until it falls silent (or closes)."""
    said = []
    while not await communicator.receive_nothing(timeout=quiet):
        output = await communicator.receive_output(timeout=TIMEOUT)
        said.append(output)
        if output["type"] == "websocket.close":
            break
    return said


async def _first_words(communicator: WebsocketCommunicator, refused: bool) -> list[dict]:
    """What the server says on connecting. A refused socket is closed at once, before a word:
    wait for that close (bounded); an open one is listened to until it falls silent."""
    if refused:
        return [await communicator.receive_output(timeout=TIMEOUT)]
    return await _outputs(communicator)


def _close_code(outputs: list[dict]) -> int | None:
    for output in outputs:
        if output["type"] == "websocket.close":
            return output.get("code", 1000)
    return None


def _text(outputs: list[dict]) -> str:
    return "\n".join(o.get("text", "") or "" for o in outputs)


def test_every_socket_route_is_in_the_policy_and_every_consult_message_type_is_tried():
    assert {r.name for r in websocket_routes()} == set(WEBSOCKETS)
    assert set(FRAMES) == set(SCHEMAS)


def _path(route, world) -> str:
    path = route.pattern
    objects = WEBSOCKETS[route.name].get("objects", {})
    for name in route.kwargs:
        value = resolve(world, objects.get(name, {"doctor_id": "doctor.pk"}.get(name, name)))
        for converter in ("str", "int", "uuid", "slug"):
            path = path.replace(f"<{converter}:{name}>", str(value))
    return "/" + path


def test_each_role_opens_only_the_sockets_the_policy_allows_and_hears_no_canary():
    world = build_world()
    failures: list[str] = []

    async def scenario():
        for route in websocket_routes():
            path = _path(route, world)
            for role in ROLES:
                expected = WEBSOCKETS[route.name]["roles"][role]
                communicator = await _open(path, world.users[role])
                said = await _first_words(communicator, refused=expected != "accept")
                code = _close_code(said)
                if expected == "accept" and code is not None:
                    failures.append(f"{route.name} as {role}: closed {code}, expected open")
                if expected != "accept" and code != expected:
                    failures.append(f"{route.name} as {role}: close {code}, expected {expected}")
                if code is None and "consult" in route.name:
                    for frame in FRAMES.values():
                        if frame["type"] in ("end", "leave"):
                            continue
                        await communicator.send_to(text_data=json.dumps(frame))
                        said += await _outputs(communicator)
                found = [c for c in world.forbidden_for(role) if c in _text(said)]
                if found:
                    failures.append(f"{route.name} as {role} heard {found}")
                await communicator.disconnect()

    async_to_sync(scenario)()
    assert failures == []


def test_the_patient_cannot_use_the_doctors_message_types():
    world = build_world()
    consultation = world.objects["consultation"]
    path = f"/ws/consult/{consultation.public_id}/"

    async def scenario():
        communicator = await _open(path, world.users["patient_a"])
        await communicator.send_to(text_data=json.dumps(FRAMES["join"]))
        await _outputs(communicator)
        errors = []
        for kind in ("admit", "end"):
            await communicator.send_to(text_data=json.dumps(FRAMES[kind]))
            said = [json.loads(o["text"]) for o in await _outputs(communicator) if "text" in o]
            errors += [s for s in said if s["type"] == "error"]
        await communicator.disconnect()
        return errors

    errors = async_to_sync(scenario)()
    assert len(errors) == 2
    consultation = Consultation.objects.get(pk=consultation.pk)
    assert consultation.admitted_at is None
    assert consultation.status != Consultation.Status.ENDED
