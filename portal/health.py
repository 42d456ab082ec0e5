"""The checks behind /healthz: each returns None when its part is up, else what went wrong."""

from __future__ import annotations

import asyncio
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection

CHANNEL_LAYER_TIMEOUT = 2.0


def database_check() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return type(exc).__name__
    return None


def cache_check() -> str | None:
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        if hasattr(cache, "ping"):  # Redis behind a fallback: ask Redis itself
            cache.ping()
        cache.set(key, "ok", timeout=10)
        value = cache.get(key)
        cache.delete(key)
    except Exception as exc:
        return type(exc).__name__
    return None if value == "ok" else "read back nothing"


async def _layer_roundtrip() -> bool:
    layer = get_channel_layer()
    channel = await layer.new_channel("healthz.")
    await layer.send(channel, {"type": "healthz.ping"})
    message = await layer.receive(channel)
    return message.get("type") == "healthz.ping"


def channel_layer_check() -> str | None:
    async def bounded() -> bool:
        return await asyncio.wait_for(_layer_roundtrip(), CHANNEL_LAYER_TIMEOUT)

    try:
        ok = async_to_sync(bounded)()
    except Exception as exc:
        return type(exc).__name__
    return None if ok else "message lost"


CHECKS = {
    "database": database_check,
    "cache": cache_check,
    "channel_layer": channel_layer_check,
}


def health_report() -> tuple[bool, dict[str, dict[str, str]]]:
    report: dict[str, dict[str, str]] = {}
    for name, check in CHECKS.items():
        error = check()
        report[name] = {"status": "up"} if error is None else {"status": "down", "error": error}
    return all(part["status"] == "up" for part in report.values()), report
