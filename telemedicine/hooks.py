"""Callables that higher apps register so the consult socket can ask without importing them.

portal registers its sign-in clocks (portal/sessions.py) in its AppConfig.ready():

    from telemedicine import hooks
    hooks.session_checks.append(session_is_current)
    hooks.session_touchers.append(session_mark_active)

A check is `(session) -> bool`: an open socket whose session fails any check is closed. A toucher
is `(session) -> bool` (True when it changed the session): a socket in a consult keeps its
session active with it, so a long call never signs its doctor out.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.sessions.backends.base import SessionBase

session_checks: list[Callable[[SessionBase], bool]] = []
session_touchers: list[Callable[[SessionBase], bool]] = []
