"""Asking a worker to drain the outbox after a commit, coalesced per process (issue 16)."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time

from celery import current_app
from django.conf import settings

from notifications.live import serving_loop

logger = logging.getLogger(__name__)

# Queued by name: notifications.tasks imports the services, so importing it here would be a
# cycle. tests/notifications/test_outbox.py checks that the worker knows the name.
DELIVER_OUTBOX_TASK = "notifications.tasks.deliver_outbox"

__all__ = ["DELIVER_OUTBOX_TASK", "enqueue_drain"]


class _DrainAsks:
    """When this process last asked for a drain, and whether a later one is already queued."""

    asked_at = -math.inf
    trailing = False


def enqueue_drain() -> None:
    """After commit: ask a worker to drain now rather than at the next beat. A broker that is
    down costs nothing but latency: the beat drains every 30 seconds anyway.

    A drain delivers every due row, so a process asks at most once per
    `OUTBOX_DRAIN_COALESCE_SECONDS` (1 s), plus one drain queued for the end of that window for
    the commits that came after the ask: during a release rush each booking used to open a
    broker connection of its own while its request still held a database connection (a third
    of the web workers' time in bench/http_rush.py). No message waits longer than the window."""
    if not settings.OUTBOX_DRAIN_ON_COMMIT:
        return
    window = float(getattr(settings, "OUTBOX_DRAIN_COALESCE_SECONDS", 1.0))
    now = time.monotonic()
    elapsed = now - _DrainAsks.asked_at
    if elapsed >= window:
        _DrainAsks.asked_at, _DrainAsks.trailing = now, False
        countdown = None
    elif not _DrainAsks.trailing:
        _DrainAsks.trailing = True
        countdown = window - elapsed
    else:
        return  # the drain queued for the end of this window delivers this commit's rows
    loop = serving_loop()
    if loop is not None:
        # A page's request: the broker's round trips run on the server's executor, not on the
        # process's one thread for views, which would wait for them holding its database
        # connection (a fifth of the web workers' busy time in bench/http_rush.py).
        loop.call_soon_threadsafe(loop.run_in_executor, None, _ask, countdown)
    else:
        _ask(countdown)


class _Broker:
    """This process's connection for drain asks, kept between them: opening one (kombu's
    transport, the Redis handshake, the channel) cost 10-12 ms of CPU an ask, most of an ask's
    cost in bench/http_rush.py. One ask at a time uses it (asks run on executor threads)."""

    lock = threading.Lock()
    connection = None
    key: tuple | None = None

    @classmethod
    def drop(cls) -> None:
        if cls.connection is not None:
            with contextlib.suppress(Exception):
                cls.connection.release()
        cls.connection = cls.key = None


def _ask(countdown: float | None) -> None:
    with _Broker.lock:
        # The broker the app names now, in this process (not one inherited across a fork).
        key = (os.getpid(), current_app.conf.broker_url)
        try:
            if _Broker.key != key:
                _Broker.drop()
                # current_app: the portal's Celery app (portal/celery.py), without importing
                # upward.
                _Broker.connection, _Broker.key = current_app.connection_for_write(), key
            connection = _Broker.connection
            # One quick try: a request never waits on a broker that is down.
            connection.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=2
            )
            current_app.send_task(
                DELIVER_OUTBOX_TASK, connection=connection, retry=False, countdown=countdown
            )
        except Exception as exc:  # any broker failure: the beat will drain
            # The next ask opens a new connection (the broker may have restarted).
            _Broker.drop()
            logger.warning(
                "Outbox drain not enqueued (%s); the beat will deliver", type(exc).__name__
            )
