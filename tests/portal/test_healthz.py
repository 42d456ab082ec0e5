"""/healthz: 200 when database, cache and channel layer answer; 503 naming what is down."""

from __future__ import annotations

import socket

import pytest
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens here once the probe closes


def _redis_everywhere(url: str) -> override_settings:
    return override_settings(
        CACHES={"default": {"BACKEND": "portal.cache.DegradingRedisCache", "LOCATION": url}},
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


def test_sign_in_still_works_while_redis_is_down(client, alice, password):
    with _redis_everywhere(f"redis://127.0.0.1:{_closed_port()}/0"):
        page = client.post(reverse("account_login"), {"login": alice.email, "password": password})
        health = client.get("/healthz")

    assert page.status_code == 302
    assert int(client.session["_auth_user_id"]) == alice.pk
    assert "cache" in health.json()["down"]


def test_rate_limits_keep_counting_while_redis_is_down(client, alice, password):
    with _redis_everywhere(f"redis://127.0.0.1:{_closed_port()}/0"):
        for _ in range(5):
            client.post(reverse("account_login"), {"login": alice.email, "password": "nope"})
        locked = client.post(reverse("account_login"), {"login": alice.email, "password": password})

    assert "Too many failed login attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_healthz_answers_head_with_the_status_of_get_and_no_body(client, rf):
    """Load balancers and orchestrators probe with HEAD: it must not be a 405."""
    from portal.views import healthz

    assert client.head("/healthz").status_code == 200
    with _redis_everywhere(f"redis://127.0.0.1:{_closed_port()}/0"):
        assert client.head("/healthz").status_code == 503
    # The view itself sends no body (the test client would strip one; a server may not).
    answer = healthz(rf.head("/healthz"))
    assert answer.status_code == 200
    assert answer.content == b""


# --- /healthz/live: the liveness probe (issue 16) --------------------------------------------


@pytest.mark.parametrize("method", ["get", "head"])
def test_live_answers_without_asking_the_database(client, django_assert_num_queries, method):
    with django_assert_num_queries(0):
        page = getattr(client, method)("/healthz/live")

    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0")


def test_live_reads_no_session_even_with_a_signed_in_cookie(
    client, alice, django_assert_num_queries
):
    client.force_login(alice)

    with django_assert_num_queries(0):
        page = client.get("/healthz/live")

    assert page.status_code == 200


def test_live_answers_while_redis_is_unreachable(client, django_assert_num_queries, caplog):
    dead = f"redis://127.0.0.1:{_closed_port()}/0"
    with _redis_everywhere(dead), django_assert_num_queries(0):
        page = client.get("/healthz/live")

    assert page.status_code == 200
    assert page.content == b"ok\n"
    # The degrading cache logs each time it finds Redis gone: the probe never asked.
    assert "Redis cache unreachable" not in caplog.text


def test_live_refuses_post(client):
    assert client.post("/healthz/live").status_code == 405
