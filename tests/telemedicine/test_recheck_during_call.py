"""A participant's right is re-checked during a call: when a link, a consent or the appointment
changes, the room is asked to check again, and whoever lost the right hears no further frame
and is closed with 4403, while the others carry on (DESIGN.md §4). Through the real ASGI
application; waits are bounded polls, never timed asserts."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async

from appointments.services import appointment_cancel
from records.models import Consent, PatientLink
from records.services import consent_revoke, link_revoke
from tests.factories import PatientLinkFactory, UserFactory
from tests.sockets import TIMEOUT, async_test, receive_until
from tests.telemedicine.conftest import joined, room

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("own_channel_layer"),
]

AFTER = "said after the right was gone"


async def until_closed(communicator) -> tuple[int, list[dict]]:
    """The close code and the frames heard before it. Bounded: each frame within TIMEOUT, and
    a socket that is never closed fails the test with a timeout."""
    heard = []
    while True:
        output = await communicator.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            return output["code"], heard
        heard.append(json.loads(output["text"]))


def said_after(heard: list[dict]) -> list[dict]:
    """Chat and relayed signalling sent once the right was gone."""
    return [
        f
        for f in heard
        if (f["type"] == "chat" and f["text"] == AFTER)
        or (f["type"] in ("offer", "ice") and f.get("sdp") == AFTER)
    ]


async def live_call(public_id, doctor, *others):
    """Everyone joined, the doctor admitted the patient side: the call is live."""
    d = await joined(public_id, doctor)
    sides = [await joined(public_id, other) for other in others]
    await d.send_json_to({"type": "admit"})
    for side in (d, *sides):
        await receive_until(side, "admitted")
    return d, sides


async def doctor_speaks(d) -> None:
    await d.send_json_to({"type": "chat", "text": AFTER})
    await d.send_json_to({"type": "offer", "sdp": AFTER})


@async_test
async def test_a_guardian_whose_link_is_revoked_mid_call_hears_nothing_more_and_is_closed():
    public_id, patient, doctor, appointment = await room()
    guardian = await database_sync_to_async(UserFactory)()
    link = await database_sync_to_async(PatientLinkFactory)(
        patient=appointment.patient, account=guardian, relationship="guardian", is_manager=False
    )
    d, (p, g) = await live_call(public_id, doctor, patient, guardian)
    try:
        await database_sync_to_async(link_revoke)(
            link=await database_sync_to_async(PatientLink.objects.get)(pk=link.pk), by=patient
        )
        await doctor_speaks(d)

        code, heard = await until_closed(g)
        assert code == 4403
        assert said_after(heard) == []

        # The patient and the doctor carry on.
        assert (await receive_until(p, "chat"))["text"] == AFTER
        assert (await receive_until(p, "offer"))["sdp"] == AFTER
        await p.send_json_to({"type": "chat", "text": "still here"})
        while (await receive_until(d, "chat"))["text"] != "still here":
            pass
    finally:
        for side in (d, p, g):
            await side.disconnect()


@async_test
async def test_a_patient_whose_telemedicine_consent_is_withdrawn_mid_call_is_closed():
    public_id, patient, doctor, appointment = await room()
    d, (p,) = await live_call(public_id, doctor, patient)
    try:
        consent = await database_sync_to_async(
            lambda: Consent.objects.get(
                patient=appointment.patient, kind="telemedicine", revoked_at=None
            )
        )()
        await database_sync_to_async(consent_revoke)(consent=consent, account=patient)
        await doctor_speaks(d)

        code, heard = await until_closed(p)
        assert code == 4403
        assert said_after(heard) == []

        # The doctor's socket stays up: the patient leaves the presence, the chat works.
        while (await receive_until(d, "presence"))["participants"] != ["doctor"]:
            pass
        await d.send_json_to({"type": "chat", "text": "anyone there?"})
        while (await receive_until(d, "chat"))["text"] != "anyone there?":
            pass
    finally:
        for side in (d, p):
            await side.disconnect()


@async_test
async def test_cancelling_the_appointment_closes_everyone_in_the_room():
    public_id, patient, doctor, appointment = await room()
    # In the waiting room (checked in, not admitted): an appointment in consultation can no
    # longer be cancelled.
    d = await joined(public_id, doctor)
    p = await joined(public_id, patient)
    try:
        await database_sync_to_async(appointment_cancel)(
            appointment=appointment, by=doctor, reason="hospital"
        )
        await p.send_json_to({"type": "chat", "text": AFTER})

        for side in (d, p):
            code, heard = await until_closed(side)
            assert code == 4403
            assert said_after(heard) == []
    finally:
        for side in (d, p):
            await side.disconnect()
