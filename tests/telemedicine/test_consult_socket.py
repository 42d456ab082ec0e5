"""The consult signalling socket, through the real ASGI application (DESIGN.md §4); the harness
is tests/sockets.py."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async

from appointments.models import Appointment
from telemedicine.models import ChatMessage, Consultation
from tests.factories import PatientLinkFactory, UserFactory
from tests.sockets import TIMEOUT, async_test, receive_until
from tests.telemedicine.conftest import consult_socket, joined, open_room, room

pytestmark = pytest.mark.django_db(transaction=True)


@async_test
async def test_strangers_other_patients_and_anonymous_sockets_are_closed_with_4403():
    public_id, *_ = await room()
    _, other_patient, other_doctor, _ = await room()
    for user in (
        None,
        await database_sync_to_async(UserFactory)(),
        other_patient,
        other_doctor,
    ):
        communicator = await consult_socket(public_id, user)
        closed = await communicator.receive_output(timeout=TIMEOUT)
        assert closed == {"type": "websocket.close", "code": 4403}
        await communicator.disconnect()


@async_test
async def test_an_unknown_room_is_closed_with_4403_like_a_foreign_one():
    _, patient, _, _ = await room()
    communicator = await consult_socket("00000000-0000-0000-0000-000000000000", patient)
    closed = await communicator.receive_output(timeout=TIMEOUT)
    assert closed["code"] == 4403
    await communicator.disconnect()


@async_test
async def test_admit_offer_answer_and_ice_reach_the_other_party_only_with_from():
    public_id, patient, doctor, appointment = await room()
    # A second account linked to the patient (a guardian) shares the patient side.
    guardian = await database_sync_to_async(UserFactory)()
    await database_sync_to_async(PatientLinkFactory)(
        patient=appointment.patient, account=guardian, relationship="guardian", is_manager=False
    )
    p = await joined(public_id, patient)
    d = await joined(public_id, doctor)
    g = await joined(public_id, guardian)
    try:
        presence = await receive_until(p, "presence")
        assert "doctor" in presence["participants"]
        await d.send_json_to({"type": "admit"})
        for side in (p, d, g):
            assert (await receive_until(side, "admitted")) == {"type": "admitted"}
        status = await database_sync_to_async(
            lambda: Appointment.objects.get(pk=appointment.pk).status
        )()
        assert status == "in_consult"

        offer = {"type": "offer", "sdp": "v=0 offer " + "x" * 3000}
        await d.send_json_to(offer)
        got = await receive_until(p, "offer")
        assert got == {**offer, "from": "doctor"}
        assert (await receive_until(g, "offer"))["from"] == "doctor"
        await p.send_json_to({"type": "answer", "sdp": "v=0 answer"})
        assert (await receive_until(d, "answer")) == {
            "type": "answer",
            "sdp": "v=0 answer",
            "from": "patient",
        }
        ice = {
            "type": "ice",
            "candidate": {"candidate": "candidate:1 1 udp 1 1.2.3.4 5 typ host"},
        }
        await p.send_json_to(ice)
        assert (await receive_until(d, "ice")) == {**ice, "from": "patient"}
        # Nothing came back to the senders' own side: the patient side saw only the
        # doctor's offer, the doctor never saw its own offer.
        assert await d.receive_nothing(timeout=0.3)
        assert await p.receive_nothing(timeout=0.3)
        connected = await database_sync_to_async(
            lambda: Consultation.objects.get(public_id=public_id).video_connected_at
        )()
        assert connected is not None
    finally:
        for side in (p, d, g):
            await side.disconnect()


@async_test
async def test_offers_before_the_doctor_admits_are_refused():
    public_id, patient, doctor, _ = await room()
    p = await joined(public_id, patient)
    d = await joined(public_id, doctor)
    try:
        await p.send_json_to({"type": "offer", "sdp": "v=0"})
        error = await receive_until(p, "error")
        assert error["code"] == "not_live"
    finally:
        await p.disconnect()
        await d.disconnect()


@async_test
async def test_chat_is_stored_shown_to_both_and_replayed_on_reconnect():
    public_id, patient, doctor, _ = await room()
    p = await joined(public_id, patient)
    d = await joined(public_id, doctor)
    try:
        await p.send_json_to({"type": "chat", "text": "I can't hear you"})
        for side in (p, d):
            message = await receive_until(side, "chat")
            assert message["text"] == "I can't hear you" and message["from"] == "patient"
            assert message["id"] and message["at"]
        await d.send_json_to({"type": "chat", "text": "Let's continue by chat"})
        await receive_until(p, "chat")
    finally:
        await p.disconnect()
    assert await database_sync_to_async(ChatMessage.objects.count)() == 2
    again = await consult_socket(public_id, patient)
    try:
        await again.send_json_to({"type": "join"})
        first = await receive_until(again, "chat")
        second = await receive_until(again, "chat")
        assert [first["text"], second["text"]] == ["I can't hear you", "Let's continue by chat"]
        assert [first["from"], second["from"]] == ["patient", "doctor"]
    finally:
        await again.disconnect()
        await d.disconnect()


@async_test
async def test_malformed_and_oversized_frames_get_an_error_and_the_socket_stays_up():
    public_id, patient, _, _ = await room()
    p = await joined(public_id, patient)
    try:
        bad_frames = [
            ("not json", "malformed"),
            (json.dumps([1, 2]), "malformed"),
            (json.dumps({"no": "type"}), "malformed"),
            (json.dumps({"type": "dance"}), "unknown_type"),
            (json.dumps({"type": "offer"}), "malformed"),
            (json.dumps({"type": "offer", "sdp": 5}), "malformed"),
            (json.dumps({"type": "chat", "text": "hi", "extra": 1}), "malformed"),
            (json.dumps({"type": "ice", "candidate": "text"}), "malformed"),
            (json.dumps({"type": "chat", "text": "x" * 2001}), "too_long"),
            ("[" * 20_000, "malformed"),  # deeper than the JSON parser goes, under 64 KB
            (json.dumps({"type": "chat", "text": "x" * (65 * 1024)}), "too_large"),
        ]
        for text, code in bad_frames:
            await p.send_to(text_data=text)
            error = await p.receive_json_from(timeout=TIMEOUT)
            assert error["type"] == "error" and error["code"] == code, text[:40]
            assert error["message"]
        await p.send_json_to({"type": "chat", "text": "still here"})
        assert (await receive_until(p, "chat"))["text"] == "still here"
    finally:
        await p.disconnect()
    assert await database_sync_to_async(ChatMessage.objects.count)() == 1


@async_test
async def test_a_flood_of_frames_is_rate_limited_without_closing_the_socket(settings):
    settings.CONSULT_WS_RATE = (0.001, 5)  # five frames, then (practically) no refill

    public_id, patient, _, _ = await room()
    p = await joined(public_id, patient)  # the join took one
    try:
        for n in range(4):
            await p.send_json_to({"type": "chat", "text": f"message {n}"})
            await receive_until(p, "chat")
        await p.send_json_to({"type": "chat", "text": "one too many"})
        error = await p.receive_json_from(timeout=TIMEOUT)
        assert error["code"] == "rate_limited"
    finally:
        await p.disconnect()
    assert await database_sync_to_async(ChatMessage.objects.count)() == 4


@async_test
async def test_the_patient_cannot_admit_or_end_and_the_doctor_ending_completes_the_appointment():
    public_id, patient, doctor, appointment = await room()
    p = await joined(public_id, patient)
    d = await joined(public_id, doctor)
    try:
        for action in ("admit", "end"):
            await p.send_json_to({"type": action})
            error = await receive_until(p, "error")
            assert error["code"] == "forbidden"
        status = await database_sync_to_async(
            lambda: Consultation.objects.get(public_id=public_id).status
        )()
        assert status == "waiting"
        await d.send_json_to({"type": "admit"})
        await receive_until(p, "admitted")
        await d.send_json_to({"type": "end"})
        assert (await receive_until(p, "ended")) == {"type": "ended"}
        await receive_until(d, "ended")
    finally:
        await p.disconnect()
        await d.disconnect()
    status = await database_sync_to_async(
        lambda: Appointment.objects.get(pk=appointment.pk).status
    )()
    assert status == "completed"


@async_test
async def test_frames_before_join_are_refused():
    public_id, patient, _, _ = await room()
    p = await consult_socket(public_id, patient)
    try:
        await p.send_json_to({"type": "chat", "text": "hello?"})
        assert (await p.receive_json_from(timeout=TIMEOUT))["code"] == "not_joined"
    finally:
        await p.disconnect()


@async_test
async def test_a_patient_without_the_telemedicine_consent_gets_an_error_on_join():
    @database_sync_to_async
    def unconsented_room():
        from records.models import Consent

        appointment, patient, doctor = open_room()
        Consent.objects.filter(patient=appointment.patient, kind="telemedicine").delete()
        return appointment.consultation.public_id, patient, doctor

    public_id, patient, doctor = await unconsented_room()
    p = await consult_socket(public_id, patient)
    d = await joined(public_id, doctor)
    try:
        await p.send_json_to({"type": "join"})
        error = await receive_until(p, "error")
        assert error["code"] == "consent"
        assert "telemedicine consent" in error["message"]
    finally:
        await p.disconnect()
        await d.disconnect()
