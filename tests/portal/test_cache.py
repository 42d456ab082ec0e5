"""The degrading cache under ASGI: Django gives every request's context a cache object of its
own, so what the outage fallback remembers, and the mark that Redis is down, must outlive the
request that found Redis gone (portal/cache.py)."""

from __future__ import annotations

import contextvars
import logging
import socket

from django.core.cache import caches
from django.test import override_settings


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def in_a_request(action):
    """`action` run as uvicorn runs a request: in a copy of the server's context."""
    return contextvars.copy_context().run(action)


def test_requests_share_the_outage_memory_and_do_not_each_retry_redis(caplog):
    dead = f"redis://127.0.0.1:{closed_port()}/0"
    settings = {"BACKEND": "portal.cache.DegradingRedisCache", "LOCATION": dead}
    with override_settings(CACHES={"default": settings}), caplog.at_level(logging.WARNING):
        first = in_a_request(lambda: caches["default"])
        in_a_request(lambda: caches["default"].set("sign-in-attempts", 3))
        second = in_a_request(lambda: caches["default"])
        seen = in_a_request(lambda: caches["default"].get("sign-in-attempts"))

    assert first is not second  # each request its own object, as Django makes them
    assert seen == 3  # what one request counted, the next one sees
    unreachable = [r for r in caplog.records if "Redis cache unreachable" in r.getMessage()]
    assert len(unreachable) == 1  # the next requests skip Redis for a while instead of retrying


def test_requests_share_one_redis_client(redis_url):
    settings = {"BACKEND": "portal.cache.DegradingRedisCache", "LOCATION": redis_url}
    with override_settings(CACHES={"default": settings}):
        in_a_request(lambda: caches["default"].set("k", "v"))
        first = in_a_request(lambda: caches["default"].client)
        second = in_a_request(lambda: caches["default"].client)
        assert in_a_request(lambda: caches["default"].get("k")) == "v"

    assert first is second
