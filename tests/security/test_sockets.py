"""The WebSocket half of the matrix: every socket route × every role × every message type of
the consult protocol, through the real ASGI application. A socket a role may not open is closed
with the policy's code before anything is said; no frame to anybody carries a canary the role
may not see; the doctor's own message types do nothing for the patient."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from telemedicine.consumers import SCHEMAS
from telemedicine.models import Consultation
from tests.security.matrix import resolve
from tests.security.policy import WEBSOCKETS
from tests.security.routes import websocket_routes
from tests.security.world import ROLES, build_world
from tests.sockets import TIMEOUT, async_test, open_socket, said_until_quiet

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("own_channel_layer"),
]
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


async def _first_words(communicator: WebsocketCommunicator, refused: bool) -> list[dict]:
    """What the server says on connecting. A refused socket is closed at once, before a word:
    wait for that close (bounded); an open one is listened to until it falls silent."""
    if refused:
        return [await communicator.receive_output(timeout=TIMEOUT)]
    return await said_until_quiet(communicator)


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


@async_test
async def test_each_role_opens_only_the_sockets_the_policy_allows_and_hears_no_canary():
    world = await database_sync_to_async(build_world)()
    failures: list[str] = []

    for route in websocket_routes():
        path = _path(route, world)
        for role in ROLES:
            expected = WEBSOCKETS[route.name]["roles"][role]
            communicator = await open_socket(path, world.users[role])
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
                    said += await said_until_quiet(communicator)
            found = [c for c in world.forbidden_for(role) if c in _text(said)]
            if found:
                failures.append(f"{route.name} as {role} heard {found}")
            await communicator.disconnect()

    assert failures == []


@async_test
async def test_the_patient_cannot_use_the_doctors_message_types():
    world = await database_sync_to_async(build_world)()
    consultation = world.objects["consultation"]
    path = f"/ws/consult/{consultation.public_id}/"

    communicator = await open_socket(path, world.users["patient_a"])
    await communicator.send_to(text_data=json.dumps(FRAMES["join"]))
    await said_until_quiet(communicator)
    errors = []
    for kind in ("admit", "end"):
        await communicator.send_to(text_data=json.dumps(FRAMES[kind]))
        said = [json.loads(o["text"]) for o in await said_until_quiet(communicator) if "text" in o]
        errors += [s for s in said if s["type"] == "error"]
    await communicator.disconnect()

    assert len(errors) == 2
    consultation = await database_sync_to_async(Consultation.objects.get)(pk=consultation.pk)
    assert consultation.admitted_at is None
    assert consultation.status != Consultation.Status.ENDED
