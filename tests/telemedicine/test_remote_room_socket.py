"""The consult socket of a remote consultation (issue 15): presence names every participant
({id, role, name}); a signalling frame with `to` reaches that participant only, with `from`;
the patient's side is refused unless the clinic doctor invited it."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from tests.sockets import TIMEOUT, async_test, receive_until
from tests.telemedicine.conftest import consult_socket, joined
from tests.telemedicine.remote import remote_consultation

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clinic_hours_ticking"),
]


async def presence_of(communicator, count: int) -> dict:
    while True:
        presence = await receive_until(communicator, "presence")
        if len(presence.get("peers", [])) == count:
            return presence


@async_test
async def test_a_frame_with_to_reaches_that_participant_only():
    consultation, _visit, family, gp, specialist = await database_sync_to_async(
        remote_consultation
    )()
    public_id = consultation.public_id
    s = await joined(public_id, specialist)
    g = await joined(public_id, gp)
    p = await joined(public_id, family)
    try:
        sockets = {"specialist": s, "gp": g, "patient": p}
        ids = {}
        for role, communicator in sockets.items():
            presence = await presence_of(communicator, 3)
            assert sorted(peer["role"] for peer in presence["peers"]) == [
                "gp",
                "patient",
                "specialist",
            ]
            assert all(peer["name"] for peer in presence["peers"])
            ids[role] = presence["you"]
        assert len(set(ids.values())) == 3

        await s.send_json_to({"type": "admit"})
        for communicator in sockets.values():
            await receive_until(communicator, "admitted")

        await s.send_json_to({"type": "offer", "sdp": "v=0 for the gp", "to": ids["gp"]})
        offer = await receive_until(g, "offer")
        assert offer["from"] == ids["specialist"] and offer["sdp"] == "v=0 for the gp"
        assert await p.receive_nothing(timeout=0.5)
        assert await s.receive_nothing(timeout=0.2)

        candidate = {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host"}
        await p.send_json_to({"type": "ice", "candidate": candidate, "to": ids["specialist"]})
        ice = await receive_until(s, "ice")
        assert ice["from"] == ids["patient"] and ice["candidate"] == candidate
        assert await g.receive_nothing(timeout=0.5)

        # A `to` that names nobody in the room goes nowhere; a malformed one is an error.
        await g.send_json_to({"type": "answer", "sdp": "v=0", "to": "0" * 16})
        assert await s.receive_nothing(timeout=0.3) and await p.receive_nothing(timeout=0.3)
        await g.send_json_to({"type": "answer", "sdp": "v=0", "to": ["x"]})
        assert (await receive_until(g, "error"))["code"] == "malformed"
    finally:
        for communicator in (s, g, p):
            await communicator.disconnect()


@async_test
async def test_the_patient_is_refused_when_the_clinic_doctor_did_not_invite_them():
    consultation, _visit, family, _gp, _specialist = await database_sync_to_async(
        remote_consultation
    )(invite_patient=False)
    communicator = await consult_socket(consultation.public_id, family)
    closed = await communicator.receive_output(timeout=TIMEOUT)
    assert closed == {"type": "websocket.close", "code": 4403}
    await communicator.disconnect()
