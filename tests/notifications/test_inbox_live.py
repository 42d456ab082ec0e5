"""The unread badge is pushed live over /ws/notifications/ to the account's own sockets; an
anonymous socket is closed with 4403."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from notifications.consumers import InboxConsumer
from notifications.services import notify, outbox_deliver_due
from tests.factories import UserFactory
from tests.sockets import TIMEOUT, async_test

pytestmark = pytest.mark.django_db(transaction=True)


def socket_for(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(InboxConsumer.as_asgi(), "/ws/notifications/")
    communicator.scope["user"] = user
    return communicator


@database_sync_to_async
def deliver_one(account, kind: str) -> None:
    with transaction.atomic():
        notify(
            account=account,
            kind=kind,
            subject=account,
            channels=("inapp",),
            context={"title": "Appointment booked", "body": "", "link": "/appointments/"},
        )
    outbox_deliver_due()


@async_test
async def test_a_delivery_pushes_the_new_unread_count_to_the_accounts_socket():
    alice = await database_sync_to_async(UserFactory)()
    bob = await database_sync_to_async(UserFactory)()
    mine, theirs = socket_for(alice), socket_for(bob)
    assert (await mine.connect(timeout=TIMEOUT))[0] and (await theirs.connect(timeout=TIMEOUT))[0]
    try:
        assert await mine.receive_json_from(timeout=TIMEOUT) == {
            "type": "inbox.unread",
            "unread": 0,
        }
        assert (await theirs.receive_json_from(timeout=TIMEOUT))["unread"] == 0

        await deliver_one(alice, "test.one")
        assert await mine.receive_json_from(timeout=TIMEOUT) == {
            "type": "inbox.unread",
            "unread": 1,
        }
        await deliver_one(alice, "test.two")
        assert (await mine.receive_json_from(timeout=TIMEOUT))["unread"] == 2
        assert await theirs.receive_nothing(timeout=0.2)  # nobody else hears of it
    finally:
        await mine.disconnect()
        await theirs.disconnect()


@async_test
async def test_an_anonymous_socket_is_closed():
    communicator = socket_for(AnonymousUser())
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    try:
        assert connected
        assert (await communicator.receive_output(timeout=TIMEOUT))["code"] == 4403
    finally:
        await communicator.disconnect()


@async_test
async def test_whatever_a_browser_sends_on_the_inbox_socket_is_ignored_and_pushes_go_on():
    alice = await database_sync_to_async(UserFactory)()
    mine = socket_for(alice)
    assert (await mine.connect(timeout=TIMEOUT))[0]
    try:
        assert (await mine.receive_json_from(timeout=TIMEOUT))["unread"] == 0
        # Not JSON, and JSON nested deeper than the parser goes: neither may kill the socket.
        for garbage in ("not json", "[" * 20_000, '{"type": "inbox.unread", "unread": 99}'):
            await mine.send_to(text_data=garbage)
        await deliver_one(alice, "test.one")
        assert await mine.receive_json_from(timeout=TIMEOUT) == {
            "type": "inbox.unread",
            "unread": 1,
        }
    finally:
        await mine.disconnect()
