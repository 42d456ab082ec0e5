"""Cookies a script cannot read and another site cannot send along, a new session key at every
sign-in, and no state change without the CSRF token, on every URL the site has."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.portal.routes import site_paths
from tests.portal.test_settings import PRODUCTION_ENV, _manage

pytestmark = pytest.mark.django_db


# 405: the route takes no POST at all, so nothing was acted on.
REFUSED_UNREAD = {405}
# /fhir/ is exempt from Django's CSRF middleware (Bearer clients send no cookie) and checks the
# token itself for session POSTs (tests/fhir); without a session it answers 401, and an unknown
# id 404, before reading the body.
FHIR_REFUSED = {401, 403, 404}


def test_every_url_refuses_a_post_without_the_csrf_token_signed_in_or_not(alice, platform_admin):
    paths = site_paths()
    assert len(paths) > 100  # the whole site, the admin included
    accepted = {}
    for user in (None, alice, platform_admin):
        client = Client(enforce_csrf_checks=True)
        if user is not None:
            client.force_login(user)
        for path in paths:
            status = client.post(path, {"anything": "1"}).status_code
            if status in REFUSED_UNREAD or (path.startswith("/fhir/") and status in FHIR_REFUSED):
                continue
            if status != 403:
                accepted[(getattr(user, "email", "anonymous"), path)] = status

    assert accepted == {}


def test_the_session_key_changes_at_sign_in(client, alice, password):
    client.get(reverse("account_login"))
    session = client.session
    session["before_sign_in"] = True
    session.save()
    before = session.session_key

    client.post(reverse("account_login"), {"login": alice.email, "password": password})

    assert client.session["_auth_user_id"] == str(alice.pk)
    assert client.session.session_key != before


def test_session_and_csrf_cookies_are_http_only_or_same_site(client, alice, password):
    client.get(reverse("account_login"))
    signed_in = client.post(reverse("account_login"), {"login": alice.email, "password": password})

    session_cookie = signed_in.cookies[settings.SESSION_COOKIE_NAME]
    assert session_cookie["httponly"] is True
    assert session_cookie["samesite"] == "Lax"
    assert client.cookies[settings.CSRF_COOKIE_NAME]["samesite"] == "Lax"


def test_production_sends_both_cookies_only_over_https():
    shown = _manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE)",
        env=PRODUCTION_ENV,
    )

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-1].split() == ["True", "True", "True", "Lax"]


def test_with_the_production_flags_both_cookies_are_marked_secure(
    client, alice, password, settings
):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True

    form = client.get(reverse("account_login"))
    signed_in = client.post(reverse("account_login"), {"login": alice.email, "password": password})

    assert form.cookies[settings.CSRF_COOKIE_NAME]["secure"] is True
    assert signed_in.cookies[settings.SESSION_COOKIE_NAME]["secure"] is True
