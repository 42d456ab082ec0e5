"""Pushes to live pages, and the unread badge.

`group_send_on_commit` is the one way the portal pushes to a channel-layer group: after the
current transaction commits, never for a rolled-back one. Every live page also polls (DESIGN.md
§5): under the embedded default the in-memory channel layer cannot carry a push from the worker
to the web process, and a push that fails is logged and dropped, which costs freshness, never
correctness.

The unread badge: after an account's inbox changes, its new unread count goes to its group; the
consumer (notifications/consumers.py) joins `inbox_group(account_id)`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from collections.abc import Callable

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from notifications.selectors import unread_count, unread_counts

logger = logging.getLogger(__name__)

MESSAGE_TYPE = "inbox.unread"


def group_send_on_commit(*, group: str, message: dict | Callable[[], dict], what: str) -> None:
    """After the current transaction commits (at once outside one), send `message` to `group`.
    A callable `message` is built after the commit (a count that must include the change).
    A push that fails is logged as "could not <what>" and dropped."""

    def push() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            body = message() if callable(message) else message
            loop = serving_loop()
            if loop is not None:
                # A page's request: hand the send to the server's event loop and go on, rather
                # than hold the process's one thread for views (and its database connection)
                # for a Redis round trip per push (bench/http_rush.py).
                loop.call_soon_threadsafe(_send_soon, layer, group, body, what)
            else:
                async_to_sync(layer.group_send)(group, body)
        except Exception:
            logger.warning("could not %s", what, exc_info=True)

    transaction.on_commit(push)


_sending: set[asyncio.Task] = set()


def serving_loop() -> asyncio.AbstractEventLoop | None:
    """The ASGI server's running event loop when this thread runs a view for it (asgiref's
    SyncToAsync records it on the thread); None elsewhere (a worker, a command, a test)."""
    local = SyncToAsync.threadlocal
    loop = getattr(local, "main_event_loop", None)
    if loop is None or getattr(local, "main_event_loop_pid", None) != os.getpid():
        return None
    return loop if loop.is_running() else None


# Pushes in flight at once per server loop. Each holds a connection of channels-redis's pool
# for its round trips, and the pool opens a new connection whenever none is free (2 ms of CPU
# each with redis-py 8, which reads its own version from the package metadata for every one):
# in a release rush hundreds of unbounded pushes grew the pool by hundreds of connections, a
# tenth of the web workers' CPU in bench/http_rush.py. Queued behind this bound, they reuse a
# few connections.
PUSHES_IN_FLIGHT = 8
_in_flight: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def _send_bounded(layer, group: str, message: dict) -> None:
    loop = asyncio.get_running_loop()
    bound = _in_flight.get(loop)
    if bound is None:
        bound = _in_flight[loop] = asyncio.Semaphore(PUSHES_IN_FLIGHT)
    async with bound:
        await layer.group_send(group, message)


def _send_soon(layer, group: str, message: dict, what: str) -> None:
    """On the server's loop: send (a few at a time), keep the task until it is done, log a
    failure."""
    task = asyncio.ensure_future(_send_bounded(layer, group, message))
    _sending.add(task)

    def done(task: asyncio.Task) -> None:
        _sending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("could not %s", what, exc_info=task.exception())

    task.add_done_callback(done)


def inbox_group(account_id: int) -> str:
    return f"inbox.{account_id}"


def push_unread(account_id: int) -> None:
    """Call inside the transaction that changed the account's inbox (a delivery, a read): once
    it commits, the account's sockets hear the new unread count."""
    group_send_on_commit(
        group=inbox_group(account_id),
        message=lambda: {"type": MESSAGE_TYPE, "unread": unread_count(account=account_id)},
        what=f"push the unread count of account {account_id}",
    )


def push_unread_many(account_ids: set[int]) -> None:
    """`push_unread` for a batch's accounts: one count query and one trip through the channel
    layer after the commit, not one of each per account."""
    if not account_ids:
        return
    ids = sorted(account_ids)

    def push() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        counts = unread_counts(accounts=ids)

        async def send_all() -> None:
            for account_id in ids:
                try:
                    await layer.group_send(
                        inbox_group(account_id),
                        {"type": MESSAGE_TYPE, "unread": counts.get(account_id, 0)},
                    )
                except Exception:
                    logger.warning(
                        "could not push the unread count of account %s", account_id, exc_info=True
                    )

        async_to_sync(send_all)()

    transaction.on_commit(push)
