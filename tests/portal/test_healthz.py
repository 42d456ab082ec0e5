"""/healthz: 200 when database, cache and channel layer answer; 503 naming what is down."""

from __future__ import annotations

import socket

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens here once the probe closes


def _redis_everywhere(url: str) -> override_settings:
    return override_settings(
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        },
        CHANNEL_LAYERS={
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [url]},
            }
        },
    )


def test_healthz_is_200_when_every_part_is_up(client):
    page = client.get("/healthz")

    assert page.status_code == 200
    body = page.json()
    assert body["status"] == "ok"
    assert body["down"] == []
    assert set(body["checks"]) == {"database", "cache", "channel_layer"}


def test_healthz_is_200_against_real_redis(client, redis_url):
    with _redis_everywhere(redis_url):
        page = client.get("/healthz")

    assert page.status_code == 200, page.json()


def test_healthz_is_503_and_names_cache_and_channel_layer_when_redis_is_unreachable(client):
    dead = f"redis://127.0.0.1:{_closed_port()}/0"
    with _redis_everywhere(dead):
        page = client.get("/healthz")

    assert page.status_code == 503
    body = page.json()
    assert body["status"] == "degraded"
    assert body["down"] == ["cache", "channel_layer"]
    assert body["checks"]["database"] == {"status": "up"}
    assert page["Cache-Control"].startswith("max-age=0")
