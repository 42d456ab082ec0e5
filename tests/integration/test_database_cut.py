"""PostgreSQL cut for a moment under a running daphne: requests answer a clear, translated 503
page (and /healthz names the database), a booking tried meanwhile leaves nothing behind, and
the site serves again once the database is back. The cut is a TCP proxy in front of the test
database (TESTING.md: never stop the shared service)."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import subprocess
import time

import pytest
from django.db import connection

from appointments.models import Appointment, Hold
from tests.appointments.conftest import counters_hold, open_slot, person
from tests.conftest import IN_CI
from tests.integration.servers import (
    DAPHNE,
    ROOT,
    CuttableProxy,
    database_url,
    free_port,
    wait_for_port,
)
from tests.sockets import session_key_for

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def daphne_through(proxy: CuttableProxy):
    # The test database's URL with the proxy's address in place of the server's.
    url = re.sub(r"@[^/]+/", f"@127.0.0.1:{proxy.port}/", database_url())
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "false",  # the real error pages, not the technical ones
        "DATABASE_POOL_TIMEOUT": "2",
        "DATABASE_POOL_MIN": "1",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    port = free_port()
    process = subprocess.Popen(
        [*DAPHNE, "-p", str(port), "portal.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, seconds=60)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def request(port, method, path, *, cookies: dict, body: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = f"http://127.0.0.1:{port}"
        headers["Referer"] = f"http://127.0.0.1:{port}{path}"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    return response, text


def test_a_database_cut_answers_503_writes_nothing_and_recovers():
    if connection.vendor != "postgresql":
        if IN_CI:
            pytest.fail("CI runs the database cut on PostgreSQL")
        pytest.skip("the database cut needs PostgreSQL")
    slot = open_slot(capacity=2)
    patient, account = person()
    cookies = {"sessionid": session_key_for(account), "django_language": "en"}
    proxy = CuttableProxy(
        connection.settings_dict.get("HOST") or "127.0.0.1",
        int(connection.settings_dict.get("PORT") or 5432),
    )
    try:
        with daphne_through(proxy) as port:
            response, page = request(port, "GET", f"/appointments/book/{slot.pk}/", cookies=cookies)
            assert response.status == 200
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
            key = re.search(r'name="key" value="([^"]+)"', page).group(1)
            csrf_cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie")).group(1)
            cookies["csrftoken"] = csrf_cookie

            proxy.cut()
            down, down_page = request(port, "GET", "/appointments/", cookies=cookies)
            booked, _ = request(
                port,
                "POST",
                f"/appointments/book/{slot.pk}/",
                cookies=cookies,
                body=f"csrfmiddlewaretoken={csrf}&patient={patient.pk}&reason=&key={key}",
            )
            chinese, chinese_page = request(
                port, "GET", "/", cookies={**cookies, "django_language": "zh-hans"}
            )
            health, health_body = request(port, "GET", "/healthz", cookies={})

            assert (down.status, booked.status, chinese.status) == (503, 503, 503)
            assert "Temporarily unavailable" in down_page
            assert "nothing was saved" in down_page
            assert "暂时无法使用" in chinese_page
            assert down.getheader("Retry-After") == "30"
            assert health.status == 503 and '"database"' in health_body

            proxy.restore()
            for _ in range(60):  # bounded: the pool reconnects on its own
                back, _ = request(port, "GET", "/appointments/", cookies=cookies)
                if back.status == 200:
                    break
                time.sleep(0.5)
            assert back.status == 200
    finally:
        proxy.close()

    assert not Appointment.objects.exists()
    assert Hold.objects.filter(slot=slot, state="live").count() == 1  # the page's hold only
    counters_hold(slot)
