"""The one after-commit push every live page uses (notifications.live.group_send_on_commit): the
message goes to the group once the transaction commits, never for a rolled-back one; a message
given as a callable is built after the commit; a push the channel layer refuses is logged and
dropped (every live page also polls, DESIGN.md §5)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from notifications.live import group_send_on_commit
from tests.sockets import TIMEOUT, async_test

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("own_channel_layer"),
]

GROUP = "tests.push"


@async_test
async def test_a_push_goes_out_after_the_commit_and_never_for_a_rolled_back_transaction():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(GROUP, channel)
    built: list[str] = []

    def message() -> dict:
        built.append("after the commit")
        return {"type": "tests.pushed", "n": 2}

    @database_sync_to_async
    def push_twice() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            group_send_on_commit(group=GROUP, message={"type": "tests.pushed", "n": 1}, what="n 1")
            raise RuntimeError("rolled back")
        with transaction.atomic():
            group_send_on_commit(group=GROUP, message=message, what="n 2")
            assert built == []  # not built inside the transaction

    try:
        await push_twice()
        assert built == ["after the commit"]
        assert await asyncio.wait_for(layer.receive(channel), TIMEOUT) == {
            "type": "tests.pushed",
            "n": 2,
        }
    finally:
        await layer.group_discard(GROUP, channel)


def test_a_push_the_channel_layer_refuses_is_logged_and_dropped(settings, caplog):
    # A Redis nobody listens on: the layer refuses every send.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:9/0"]},
        }
    }
    with caplog.at_level(logging.WARNING, logger="notifications.live"):
        group_send_on_commit(
            group=GROUP, message={"type": "tests.pushed"}, what="push the test message"
        )

    [record] = [r for r in caplog.records if r.name == "notifications.live"]
    assert record.getMessage() == "could not push the test message"
    assert record.exc_info is not None


@async_test
async def test_pushes_from_a_page_go_out_a_few_at_a_time_and_all_arrive():
    """A release rush pushes hundreds of figures at once from one server loop: at most
    PUSHES_IN_FLIGHT hold a connection of the layer at a time (issue 16), and none is lost."""
    from notifications import live

    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(GROUP, channel)
    real_send = layer.group_send
    in_flight = most = 0

    async def counted(group, message):
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.001)  # a Redis round trip's worth of waiting
        await real_send(group, message)
        in_flight -= 1

    layer.group_send = counted
    try:
        for n in range(60):
            live._send_soon(layer, GROUP, {"type": "tests.pushed", "n": n}, "test push")
        received = [(await layer.receive(channel))["n"] for _ in range(60)]
    finally:
        layer.group_send = real_send
    assert sorted(received) == list(range(60))
    assert 1 < most <= live.PUSHES_IN_FLIGHT
