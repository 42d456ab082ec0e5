"""The thread's socket /ws/text-consults/<uuid>/: each side hears that the thread changed (no
text travels on it), a stranger is closed with 4403, and a family whose link is revoked is
closed with 4403 at the next change, before hearing it."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from telemedicine.services_text import text_consult_open, text_consult_reply
from tests.factories import UserFactory
from tests.sockets import async_test, close_code, open_socket, receive_until
from tests.telemedicine.text import text_world

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("own_channel_layer"),
]


@database_sync_to_async
def _thread():
    world = text_world()
    consult = text_consult_open(
        patient=world.child, doctor=world.doctor, by=world.parent, question="红疹"
    )
    return world, consult


@async_test
async def test_both_sides_hear_a_new_message_and_a_stranger_is_refused():
    world, consult = await _thread()
    path = f"/ws/text-consults/{consult.encounter.public_id}/"
    family = await open_socket(path, world.parent)
    doctor = await open_socket(path, world.doctor_user)
    stranger = await open_socket(path, await database_sync_to_async(UserFactory)())
    try:
        assert await close_code(stranger) == 4403
        await database_sync_to_async(text_consult_reply)(
            consult=consult, by=world.doctor_user, text="像是湿疹"
        )
        for socket in (family, doctor):
            heard = await receive_until(socket, "thread.changed")
            assert heard == {"type": "thread.changed", "what": "message"}
    finally:
        for socket in (family, doctor, stranger):
            await socket.disconnect()


@async_test
async def test_a_revoked_link_closes_the_family_socket_at_the_next_change():
    world, consult = await _thread()
    path = f"/ws/text-consults/{consult.encounter.public_id}/"
    family = await open_socket(path, world.parent)
    try:
        await database_sync_to_async(
            lambda: world.child.links.filter(account=world.parent).update(revoked_at=timezone.now())
        )()
        await database_sync_to_async(text_consult_reply)(
            consult=consult, by=world.doctor_user, text="答"
        )
        assert await close_code(family) == 4403
    finally:
        await family.disconnect()
