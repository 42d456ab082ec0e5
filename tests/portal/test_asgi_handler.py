"""The production ASGI application (portal/asgi.py) serves pages through the synchronous
middleware chain entered once per request (issue 16): a signed-in page, a form's POST with its
CSRF check and redirect, and a 404, as the test client sees them."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import iscoroutinefunction
from channels.testing import HttpCommunicator
from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpResponse, StreamingHttpResponse
from django.test import override_settings
from django.urls import path

from portal.asgi import PortalASGIHandler, django_asgi_app
from tests.factories import UserFactory
from tests.sockets import TIMEOUT, async_test, database_sync_to_async, session_key_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_chain_is_synchronous_and_runs_on_the_pooled_threads():
    assert isinstance(django_asgi_app, PortalASGIHandler)
    assert not iscoroutinefunction(django_asgi_app._middleware_chain)
    assert django_asgi_app.executor._max_workers >= 1


async def fetch(path: str, *, method: str = "GET", cookie: str = "", body: bytes = b""):
    headers = [(b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if body:
        headers.append((b"content-type", b"application/x-www-form-urlencoded"))
    communicator = HttpCommunicator(django_asgi_app, method, path, body=body, headers=headers)
    return await communicator.get_response(timeout=TIMEOUT)


@async_test
async def test_a_signed_in_page_a_missing_one_and_a_sign_in_redirect():
    user = await database_sync_to_async(UserFactory)()
    key = await database_sync_to_async(session_key_for)(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={key}"

    page = await fetch("/me/notifications/", cookie=cookie)
    assert page["status"] == 200
    assert b"<html" in page["body"]

    missing = await fetch("/appointments/book/999999999/", cookie=cookie)
    assert missing["status"] == 404

    anonymous = await fetch("/me/notifications/")
    assert anonymous["status"] == 302
    assert dict(anonymous["headers"])[b"Location"].startswith(b"/accounts/login/")


@async_test
async def test_a_post_without_its_csrf_token_is_refused():
    user = await database_sync_to_async(UserFactory)()
    key = await database_sync_to_async(session_key_for)(user)
    refused = await fetch(
        "/appointments/book/1/",
        method="POST",
        cookie=f"{settings.SESSION_COOKIE_NAME}={key}",
        body=b"key=x",
    )
    assert refused["status"] == 403


# --- One process serves several requests at once (a booking waiting on a row lock does not
# hold up the sold-out answers behind it), each from start to finish on one pooled thread. ---

_release = threading.Event()
_threads: dict[str, str] = {}


def _waits(request):
    """Answers only once the other view has run: with one thread per process it never would."""
    _threads["waits"] = threading.current_thread().name
    return HttpResponse(b"released" if _release.wait(TIMEOUT) else b"timed out")


def _releases(request):
    _threads["releases"] = threading.current_thread().name
    _release.set()
    return HttpResponse(b"ok")


async def _parts():
    for n in range(3):
        yield f"part {n}\n".encode()


def _streams(request):
    return StreamingHttpResponse(_parts())


urlpatterns = [
    path("waits/", _waits),
    path("releases/", _releases),
    path("streams/", _streams),
]


def _finished(sender, **kwargs):
    _threads.setdefault("finished", threading.current_thread().name)


@async_test
async def test_a_waiting_request_leaves_the_process_serving_others():
    _release.clear()
    with override_settings(ROOT_URLCONF=__name__):
        waiting = asyncio.ensure_future(fetch("/waits/"))
        await asyncio.sleep(0.2)
        other = await fetch("/releases/")
        first = await waiting
    assert other["status"] == 200
    assert first["body"] == b"released"
    assert _threads["waits"] != _threads["releases"]


@async_test
async def test_the_finish_signal_runs_on_the_thread_that_served_the_request():
    _threads.clear()
    request_finished.connect(_finished)
    try:
        with override_settings(ROOT_URLCONF=__name__):
            answer = await fetch("/releases/")
    finally:
        request_finished.disconnect(_finished)
    assert answer["status"] == 200
    # Django's own handler sends it from another hop: the connection would stay checked out.
    assert _threads["finished"] == _threads["releases"]
    assert _threads["releases"].startswith("request")


@async_test
async def test_a_streamed_response_arrives_whole():
    # Driven by hand: channels' communicator wants a body in the last message, which Django's
    # streamed sending leaves out.
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/streams/",
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
        "server": ("localhost", 80),
    }
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    with override_settings(ROOT_URLCONF=__name__):
        await asyncio.wait_for(django_asgi_app(scope, receive, send), TIMEOUT)
    assert sent[0]["status"] == 200
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"part 0\npart 1\npart 2\n"
