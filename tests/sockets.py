"""How the tests speak to the portal's sockets: one session helper, one way to open a socket,
one async harness.

A consumer test is an `async def test_…` decorated with `@async_test`. It runs through
`async_to_sync` on the test's own thread (no pytest-asyncio), so `database_sync_to_async` calls
reach the same database connection as the test's fixtures. Sockets go through the real
`portal.asgi.application` with `WebsocketCommunicator` (TESTING.md), with timeouts of several
seconds (the 1 s default flakes on 2 cores); always `await communicator.disconnect()`.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

TIMEOUT = 5
# What a browser on the site sends: AllowedHostsOriginValidator refuses a socket without them.
ORIGIN_HEADERS = ((b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"))


def session_key_for(user, *, clocks_started: bool = False) -> str:
    """A saved session signed in as `user`, as Django's login() leaves it. With
    `clocks_started` the idle and absolute clocks start now, as after a password sign-in
    (portal/sessions.py); without, the first request starts them."""
    from portal import sessions

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if clocks_started:
        sessions.session_begin(session=store, user=user)
    store.save()
    return store.session_key


def browser_session_cookie(user, url: str) -> dict:
    """The session cookie for Playwright's `context.add_cookies`."""
    return {"name": settings.SESSION_COOKIE_NAME, "value": session_key_for(user), "url": url}


async def open_socket(path: str, user=None, *, session_key: str | None = None):
    """A connected socket on `path`: signed in as `user` (a new session), or with the session
    `session_key`, or anonymous. A refused socket is accepted too, then closed at once with its
    code (DESIGN.md §4), so the caller reads the close."""
    from portal.asgi import application

    headers = list(ORIGIN_HEADERS)
    if user is not None:
        session_key = await database_sync_to_async(session_key_for)(user)
    if session_key is not None:
        cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}"
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected, path
    return communicator


async def receive_until(communicator: WebsocketCommunicator, kind: str) -> dict:
    """The next JSON frame of type `kind`, skipping the others; each frame within TIMEOUT."""
    while True:
        message = await communicator.receive_json_from(timeout=TIMEOUT)
        if message["type"] == kind:
            return message


async def close_code(communicator: WebsocketCommunicator) -> int:
    """The code the socket closes with, skipping what comes before; each frame within TIMEOUT."""
    while True:
        output = await communicator.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            return output["code"]


async def said_until_quiet(communicator: WebsocketCommunicator, quiet: float = 0.5) -> list[dict]:
    """Everything the server says until it closes or falls silent for `quiet` seconds."""
    said = []
    while not await communicator.receive_nothing(timeout=quiet):
        output = await communicator.receive_output(timeout=TIMEOUT)
        said.append(output)
        if output["type"] == "websocket.close":
            break
    return said


def async_test(test: Callable) -> Callable:
    """Run an `async def test_…(fixtures…)` as a sync test through `async_to_sync`, so
    pytest-django's database fixtures work as for any test and `database_sync_to_async` runs
    on the test's own thread. (tests/integration speaks to server processes with a real
    WebSocket client instead, in `asyncio.run` on a thread of its own: after the browser tests,
    Playwright's event loop runs in the main thread.)"""

    @functools.wraps(test)
    def run(*args, **kwargs) -> None:
        # Each test's loop gets a channel layer of its own: channels-redis binds its
        # connections and locks to the loop that first used them, and a consumer of a later
        # loop waiting on them never ends (nor lets asyncio.run finish).
        channel_layers.backends.pop("default", None)
        try:
            async_to_sync(_then_end_leftovers)(test, *args, **kwargs)
        finally:
            channel_layers.backends.pop("default", None)

    return run


async def _then_end_leftovers(test: Callable, *args, **kwargs) -> None:
    try:
        await test(*args, **kwargs)
    finally:
        await _end_leftover_tasks()


async def _end_leftover_tasks(timeout: float = 10) -> None:
    """Cancel what the test left running (a socket it did not disconnect, its consumer, the
    sign-in watcher) and wait for it here, while `database_sync_to_async` still reaches the
    test's thread. Left to `asyncio.run`'s own clean-up, a consumer that touches the database
    as it ends waited for a thread that no longer served it, and the suite hung."""
    current = asyncio.current_task()
    leftovers = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
    for task in leftovers:
        task.cancel()
    if leftovers:
        _done, pending = await asyncio.wait(leftovers, timeout=timeout)
        assert not pending, f"tasks that did not end when cancelled: {pending!r}"
