"""The sign-in rules of pages, applied to every WebSocket (DESIGN.md §2 and §4).

`SocketSignInMiddleware` sits in `portal/asgi.py` inside `AuthMiddlewareStack` (so the scope
has its `user` and `session`) and in front of every socket route. A route is public only when
its path starts with one of `PUBLIC_PREFIXES` (the doctor's live places left, which the doctor
page shows to anyone). Every other socket needs what its page needs:

- a signed-in account: the session exists, its password hash is current and the account is
  active (a logout, a password change or a deactivation ends it);
- the second factor where `portal.access.requires_mfa` asks for it, by the rule pages use
  (`second_factor_missing`: a page sends such an account to TOTP set-up; a socket has no such
  detour, so it is refused);
- a session within its idle and absolute limits (portal/sessions.py).

Close codes, which the consult pages read (telemedicine/static/telemedicine/media.js):

- **4403** — refused at connect. The socket is accepted and then closed at once (a close
  before accept reaches browsers as 1006, with no code); the consumer behind it never runs, so
  nothing it would say or store happens. Consumers use the same code for an account that may
  not open that object (someone else's consult, another hospital's display) or that loses its
  right during a call.
- **4401** — the sign-in ended while the socket was open: logout, password change,
  deactivation, the idle or absolute limit, or the second factor removed. Checked every
  `SOCKET_SESSION_CHECK_SECONDS`; after the close nothing the consumer still sends reaches the
  browser, and nothing the browser had sent on the way reaches the consumer. The browser
  reloads the page, which lands on the sign-in form.

Activity: a frame from the browser counts (the person did something), and so does a socket
its consumer marks as in use through `scope["socket_activity"].in_use` (a joined consult: a
video call sends nothing for minutes, yet the doctor is working). Either moves the session's
last activity on at the next check, so a long call never signs its doctor out, while a display
or an inbox left open on its own never keeps a sign-in alive. The absolute limit always holds.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from importlib import import_module
from types import SimpleNamespace
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.db import DatabaseError

from portal import sessions
from portal.access import second_factor_missing

logger = logging.getLogger(__name__)

# The sockets anyone may open: their pages are public too.
PUBLIC_PREFIXES: tuple[str, ...] = ("/ws/slots/doctor/",)

CLOSE_FORBIDDEN = 4403
CLOSE_SIGNED_OUT = 4401


@dataclass
class SocketActivity:
    """Shared between the middleware and the consumer of one socket (in its scope)."""

    in_use: bool = False  # the consumer says the socket is being used (a joined consult)
    received: bool = False  # a frame arrived from the browser since the last check


def sign_in_holds(*, session_key: str | None, user_pk: Any, touch: bool = False) -> bool:
    """Whether the sign-in behind a socket still holds, read afresh from the session store
    (the socket's copy is as old as the socket). With `touch`, also move the session's last
    activity on — only after the limits were checked, so a touch never revives a session."""
    if not session_key or user_pk is None:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = get_user(SimpleNamespace(session=store))
    if not user.is_authenticated or user.pk != user_pk:
        return False
    if sessions.session_expiry_reason(session=store) is not None:
        return False
    if second_factor_missing(user):
        return False
    if touch and sessions.session_mark_active(store):
        store.save()
    return True


def _is_public(path: str) -> bool:
    return path.startswith(PUBLIC_PREFIXES)


class SocketSignInMiddleware:
    """Refuse (4403) a socket whose sign-in does not hold, and close (4401) an open one when it
    stops holding. See the module docstring for the rules and codes."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket" or _is_public(scope["path"]):
            return await self.app(scope, receive, send)
        user = scope.get("user")
        user_pk = user.pk if user is not None and user.is_authenticated else None
        session = scope.get("session")
        session_key = session.session_key if session is not None else None
        if user_pk is None or not await database_sync_to_async(sign_in_holds)(
            session_key=session_key, user_pk=user_pk
        ):
            return await _refuse(receive, send)
        socket = _WatchedSocket(session_key=session_key, user_pk=user_pk, send=send)
        try:
            await self.app(
                dict(scope, socket_activity=socket.activity),
                socket.receive_from(receive),
                socket.send,
            )
        finally:
            socket.stop()


async def _refuse(receive, send) -> None:
    """Accept, close with 4403, and wait for the server to report the socket gone."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": CLOSE_FORBIDDEN})
    while message["type"] != "websocket.disconnect":
        message = await receive()


class _WatchedSocket:
    """One open socket: its sends and receives pass through here, and once it is accepted a
    watcher re-checks the sign-in every SOCKET_SESSION_CHECK_SECONDS."""

    def __init__(self, *, session_key: str, user_pk: Any, send) -> None:
        self.session_key = session_key
        self.user_pk = user_pk
        self._send = send
        self.activity = SocketActivity()
        self.closed = False
        self.watcher: asyncio.Task | None = None

    def receive_from(self, receive):
        async def guarded_receive():
            while True:
                message = await receive()
                if message["type"] == "websocket.receive":
                    if self.closed:
                        continue  # sent before the close: it never reaches the consumer
                    self.activity.received = True
                return message

        return guarded_receive

    async def send(self, message: dict) -> None:
        if self.closed:
            return  # after the close nothing reaches the browser
        if message["type"] == "websocket.accept" and self.watcher is None:
            self.watcher = asyncio.ensure_future(self._watch())
        elif message["type"] == "websocket.close":
            self.closed = True
            self.stop()
        await self._send(message)

    def stop(self) -> None:
        if self.watcher is not None and self.watcher is not asyncio.current_task():
            self.watcher.cancel()

    async def _watch(self) -> None:
        interval = settings.SOCKET_SESSION_CHECK_SECONDS
        while not self.closed:
            await asyncio.sleep(interval)
            touch = self.activity.received or self.activity.in_use
            self.activity.received = False
            try:
                holds = await database_sync_to_async(sign_in_holds)(
                    session_key=self.session_key, user_pk=self.user_pk, touch=touch
                )
            except DatabaseError:
                # Sessions live in the database: when it is away nothing else works either.
                # Keep the call up and ask again at the next check.
                logger.warning("could not check the sign-in of a socket", exc_info=True)
                continue
            if not holds and not self.closed:
                self.closed = True
                # The server answers with websocket.disconnect, and the consumer cleans up.
                await self._send({"type": "websocket.close", "code": CLOSE_SIGNED_OUT})
                return
