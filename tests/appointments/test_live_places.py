"""Places left change live on an open doctor page: a push to the doctor's group reaches every
connected browser of that doctor, and no other. (No pytest-asyncio here: each test drives its
scenario with async_to_sync, so database_sync_to_async runs on the test's own thread.)"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction

from appointments.live import slot_places_changed
from portal.asgi import application
from tests.factories import DoctorFactory, SlotFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5
HEADERS = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


def connect(doctor_id: int) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, f"/ws/slots/doctor/{doctor_id}/", headers=HEADERS)


@database_sync_to_async
def book_one_place(slot) -> None:
    with transaction.atomic():
        slot.booked += 1
        slot.save(update_fields=["booked"])
        slot_places_changed(slot=slot)


def test_a_booking_pushes_the_new_places_left_to_a_connected_page():
    async_to_sync(_test_a_booking_pushes_the_new_places_left_to_a_connected_page)()


async def _test_a_booking_pushes_the_new_places_left_to_a_connected_page():
    doctor = await database_sync_to_async(DoctorFactory)()
    slot = await database_sync_to_async(SlotFactory)(doctor=doctor, capacity=2)
    page = connect(doctor.pk)
    connected, _ = await page.connect(timeout=TIMEOUT)
    assert connected
    try:
        await book_one_place(slot)
        message = await page.receive_json_from(timeout=TIMEOUT)
        assert message == {
            "type": "slot.places",
            "slot": slot.pk,
            "public_left": 1,
            "referral_left": 0,
            "bookable": True,
        }
        await book_one_place(slot)
        message = await page.receive_json_from(timeout=TIMEOUT)
        assert message["public_left"] == 0 and message["bookable"] is False
    finally:
        await page.disconnect()


def test_another_doctors_page_hears_nothing():
    async_to_sync(_test_another_doctors_page_hears_nothing)()


async def _test_another_doctors_page_hears_nothing():
    doctor, other = await database_sync_to_async(DoctorFactory.create_batch)(2)
    slot = await database_sync_to_async(SlotFactory)(doctor=doctor)
    watching = connect(doctor.pk)
    elsewhere = connect(other.pk)
    assert (await watching.connect(timeout=TIMEOUT))[0]
    assert (await elsewhere.connect(timeout=TIMEOUT))[0]
    try:
        await book_one_place(slot)
        assert (await watching.receive_json_from(timeout=TIMEOUT))["slot"] == slot.pk
        assert await elsewhere.receive_nothing(timeout=0.5)
    finally:
        await watching.disconnect()
        await elsewhere.disconnect()


def test_a_rolled_back_change_pushes_nothing():
    async_to_sync(_test_a_rolled_back_change_pushes_nothing)()


async def _test_a_rolled_back_change_pushes_nothing():
    doctor = await database_sync_to_async(DoctorFactory)()
    slot = await database_sync_to_async(SlotFactory)(doctor=doctor)
    page = connect(doctor.pk)
    assert (await page.connect(timeout=TIMEOUT))[0]

    @database_sync_to_async
    def change_then_roll_back():
        with pytest.raises(RuntimeError), transaction.atomic():
            slot_places_changed(slot=slot)
            raise RuntimeError("booking failed")

    try:
        await change_then_roll_back()
        assert await page.receive_nothing(timeout=0.5)
    finally:
        await page.disconnect()


def test_an_unknown_doctors_socket_is_closed_with_4404():
    async_to_sync(_test_an_unknown_doctors_socket_is_closed_with_4404)()


async def _test_an_unknown_doctors_socket_is_closed_with_4404():
    page = connect(999999)
    connected, _ = await page.connect(timeout=TIMEOUT)
    assert connected
    try:
        output = await page.receive_output(timeout=TIMEOUT)
        assert output == {"type": "websocket.close", "code": 4404}
    finally:
        await page.disconnect()


def test_whatever_a_browser_sends_on_the_listen_only_socket_is_ignored_and_pushes_go_on():
    async_to_sync(_test_whatever_a_browser_sends_is_ignored)()


async def _test_whatever_a_browser_sends_is_ignored():
    doctor = await database_sync_to_async(DoctorFactory)()
    slot = await database_sync_to_async(SlotFactory)(doctor=doctor, capacity=2)
    page = connect(doctor.pk)
    connected, _ = await page.connect(timeout=TIMEOUT)
    assert connected
    try:
        # Not JSON, and JSON nested deeper than the parser goes: neither may kill the socket.
        for garbage in ("not json", "[" * 20_000, '{"type": "slot.places"}'):
            await page.send_to(text_data=garbage)
        await book_one_place(slot)
        message = await page.receive_json_from(timeout=TIMEOUT)
        assert message["type"] == "slot.places" and message["public_left"] == 1
    finally:
        await page.disconnect()
