"""One consult carried by two ASGI server processes with no shared memory: the patient's socket
on process 1, the doctor's on process 2, channels-redis (a private Redis) between them. Presence,
admit, offer, answer and chat all cross the process boundary."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from websockets.asyncio.client import connect

from telemedicine.models import ChatMessage
from tests.integration.servers import asgi_servers, private_redis
from tests.sockets import session_key_for
from tests.telemedicine.conftest import open_room

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 10
IDLE_SECONDS = 12


async def receive(ws, kind: str) -> dict:
    async def wait():
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == kind:
                return message

    return await asyncio.wait_for(wait(), TIMEOUT)


async def presence_with(ws, roles: list[str]) -> None:
    while (await receive(ws, "presence"))["participants"] != roles:
        pass


def open_socket(port: int, public_id, key: str):
    return connect(
        f"ws://127.0.0.1:{port}/ws/consult/{public_id}/",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": f"sessionid={key}"},
        open_timeout=TIMEOUT,
    )


def test_patient_and_doctor_on_two_processes_share_one_consult():
    appointment, patient, doctor = open_room()
    public_id = appointment.consultation.public_id
    patient_key, doctor_key = session_key_for(patient), session_key_for(doctor)

    async def scenario(ports: list[int]) -> None:
        async with (
            open_socket(ports[0], public_id, patient_key) as p,
            open_socket(ports[1], public_id, doctor_key) as d,
        ):
            await p.send(json.dumps({"type": "join"}))
            await presence_with(p, ["patient"])
            await d.send(json.dumps({"type": "join"}))
            await presence_with(d, ["doctor", "patient"])
            await presence_with(p, ["doctor", "patient"])

            await d.send(json.dumps({"type": "admit"}))
            await receive(p, "admitted")
            await receive(d, "admitted")

            # Nothing to relay for longer than the layer's blocking read (BZPOPMIN, 5 s): the
            # sockets stay up (redis-py 8's 5 s read timeout closed them with 1011).
            await asyncio.sleep(IDLE_SECONDS)

            offer = {"type": "offer", "sdp": "v=0 " + "o" * 3000}
            await d.send(json.dumps(offer))
            assert await receive(p, "offer") == {**offer, "from": "doctor"}
            await p.send(json.dumps({"type": "answer", "sdp": "v=0 answer"}))
            assert (await receive(d, "answer"))["from"] == "patient"

            await p.send(json.dumps({"type": "chat", "text": "Hello from process one"}))
            for ws in (p, d):
                message = await receive(ws, "chat")
                assert message["text"] == "Hello from process one"
                assert message["from"] == "patient"

    # A thread of its own for the clients: after the browser tests, Playwright's event loop
    # runs in this one.
    with (
        private_redis() as redis_url,
        asgi_servers(2, redis_url=redis_url) as ports,
        ThreadPoolExecutor(1) as thread,
    ):
        thread.submit(lambda: asyncio.run(scenario(ports))).result()
    assert ChatMessage.objects.filter(consultation__public_id=public_id).count() == 1
