"""The production ASGI application (portal/asgi.py) serves pages through the synchronous
middleware chain entered once per request (issue 16): a signed-in page, a form's POST with its
CSRF check and redirect, and a 404, as the test client sees them."""

from __future__ import annotations

import pytest
from asgiref.sync import SyncToAsync
from channels.testing import HttpCommunicator
from django.conf import settings

from portal.asgi import PortalASGIHandler, django_asgi_app
from tests.factories import UserFactory
from tests.sockets import TIMEOUT, async_test, database_sync_to_async, session_key_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_chain_is_entered_once_and_runs_synchronously():
    assert isinstance(django_asgi_app, PortalASGIHandler)
    assert isinstance(django_asgi_app._middleware_chain, SyncToAsync)


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
