"""Places left change live on an open doctor page: a push to the doctor's group reaches every
connected browser of that doctor, and no other."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from appointments.live import slot_places_changed
from tests.factories import DoctorFactory, SlotFactory
from tests.sockets import TIMEOUT, async_test, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def doctor_page(doctor_id: int):
    """An anonymous page's socket on the doctor's live places (public), connected."""
    return await open_socket(f"/ws/slots/doctor/{doctor_id}/")


@database_sync_to_async
def book_one_place(slot) -> None:
    with transaction.atomic():
        slot.booked += 1
        slot.save(update_fields=["booked"])
        slot_places_changed(slot=slot)


@async_test
async def test_a_booking_pushes_the_new_places_left_to_a_connected_page():
    doctor = await database_sync_to_async(DoctorFactory)()
    slot = await database_sync_to_async(SlotFactory)(doctor=doctor, capacity=2)
    page = await doctor_page(doctor.pk)
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


@async_test
async def test_another_doctors_page_hears_nothing():
    doctor, other = await database_sync_to_async(DoctorFactory.create_batch)(2)
    slot = await database_sync_to_async(SlotFactory)(doctor=doctor)
    watching = await doctor_page(doctor.pk)
    elsewhere = await doctor_page(other.pk)
    try:
        await book_one_place(slot)
        assert (await watching.receive_json_from(timeout=TIMEOUT))["slot"] == slot.pk
        assert await elsewhere.receive_nothing(timeout=0.5)
    finally:
        await watching.disconnect()
        await elsewhere.disconnect()


@async_test
async def test_a_rolled_back_change_pushes_nothing():
    doctor = await database_sync_to_async(DoctorFactory)()
    slot = await database_sync_to_async(SlotFactory)(doctor=doctor)
    page = await doctor_page(doctor.pk)

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


@async_test
async def test_an_unknown_doctors_socket_is_closed_with_4404():
    page = await doctor_page(999999)
    try:
        output = await page.receive_output(timeout=TIMEOUT)
        assert output == {"type": "websocket.close", "code": 4404}
    finally:
        await page.disconnect()


@async_test
async def test_whatever_a_browser_sends_on_the_listen_only_socket_is_ignored_and_pushes_go_on():
    doctor = await database_sync_to_async(DoctorFactory)()
    slot = await database_sync_to_async(SlotFactory)(doctor=doctor, capacity=2)
    page = await doctor_page(doctor.pk)
    try:
        # Not JSON, and JSON nested deeper than the parser goes: neither may kill the socket.
        for garbage in ("not json", "[" * 20_000, '{"type": "slot.places"}'):
            await page.send_to(text_data=garbage)
        await book_one_place(slot)
        message = await page.receive_json_from(timeout=TIMEOUT)
        assert message["type"] == "slot.places" and message["public_left"] == 1
    finally:
        await page.disconnect()
