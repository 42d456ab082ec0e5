"""How long a sign-in lasts: idle and absolute limits kept in the session itself.

At sign-in the session records when it started and how long it may sit idle (15 minutes for
anyone who must hold a second factor, 30 for patients); every request that a person made (not a
page polling in the background) moves its last activity on. A session past either limit is
signed out by `portal.middleware.SessionTimeoutMiddleware`; an open socket is closed by
`portal.socket_sign_in.SocketSignInMiddleware`, and a socket in use (a joined consult) keeps its
session active.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase

from portal.access import requires_mfa

STARTED_AT = "_portal_started_at"
ACTIVE_AT = "_portal_active_at"
IDLE_LIMIT = "_portal_idle_limit"
# A person's request moves the last activity on at most this often: one session write a minute,
# not one per request.
TOUCH_EVERY_SECONDS = 60


def idle_limit_for(user: AbstractBaseUser) -> int:
    if requires_mfa(user):
        return settings.SESSION_IDLE_SECONDS_STAFF
    return settings.SESSION_IDLE_SECONDS_PATIENT


def session_begin(
    *, session: SessionBase, user: AbstractBaseUser, now: float | None = None
) -> None:
    """Called at sign-in (user_logged_in): the clocks start now."""
    now = time.time() if now is None else now
    session[STARTED_AT] = now
    session[ACTIVE_AT] = now
    session[IDLE_LIMIT] = idle_limit_for(user)


def session_expiry_reason(*, session: SessionBase, now: float | None = None) -> str | None:
    """ "idle", "absolute" or None while the sign-in is still good."""
    now = time.time() if now is None else now
    started = session.get(STARTED_AT)
    active = session.get(ACTIVE_AT)
    if started is None or active is None:
        return None  # not begun yet: the middleware begins it (sign-ins from before the clocks)
    if now - started >= settings.SESSION_ABSOLUTE_SECONDS:
        return "absolute"
    idle = session.get(IDLE_LIMIT, settings.SESSION_IDLE_SECONDS_STAFF)
    if now - active >= idle:
        return "idle"
    return None


def session_mark_active(session: SessionBase, now: float | None = None) -> bool:
    """Move the last activity on; True when the session changed (and needs saving)."""
    now = time.time() if now is None else now
    if now - session.get(ACTIVE_AT, 0) < TOUCH_EVERY_SECONDS:
        return False
    session[ACTIVE_AT] = now
    return True
