from __future__ import annotations

import datetime as dt
import os
import socket
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import translation

from notifications import sms
from tests.factories import PASSWORD, StaffFactory, UserFactory

# 09:55 in Shanghai on a Wednesday: a slot at 10:00 is on the same local day, in the same month,
# and its room is open. Tests that book "now" and check in pin the clock here, because at 23:30
# local time a slot "in forty minutes" falls on tomorrow and its check-in is refused.
CLINIC_MOMENT = dt.datetime(2026, 12, 2, 9, 55, tzinfo=ZoneInfo("Asia/Shanghai"))

IN_CI = os.environ.get("CI") == "true"


def require_service(name: str, url: str) -> None:
    """Skip when a service this test needs is unreachable; under CI=true that is a failure."""
    reason = None
    if not url:
        reason = f"{name} is not configured (set its URL in the environment)"
    else:
        parsed = urlparse(url)
        try:
            socket.create_connection((parsed.hostname, parsed.port), timeout=2).close()
        except OSError as exc:
            reason = f"{name} at {parsed.hostname}:{parsed.port} is unreachable: {exc}"
    if reason:
        if IN_CI:
            pytest.fail(f"CI needs {reason}")
        pytest.skip(reason)


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    require_service("Redis", url)
    return url


@pytest.fixture(autouse=True)
def _clean_outboxes():
    sms.outbox.clear()
    mail.outbox = []
    yield
    sms.outbox.clear()


@pytest.fixture(autouse=True)
def _language_of_the_settings():
    """Each test starts in the settings' language: a page requested in Chinese leaves Chinese
    active in the thread (LocaleMiddleware activates it and nothing deactivates it), and a later
    test's messages were written in Chinese (seen in CI: "Clinic stopped" came out as 停诊)."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    # allauth's rate limits count in the cache: one test's sign-ins must not throttle another's.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def own_channel_layer():
    """A channel layer of the test's own, dropped afterwards: a socket cut short must not leave
    a lock of this test's event loop in the layer the next test uses."""
    from channels.layers import channel_layers

    channel_layers.backends.pop("default", None)
    yield
    channel_layers.backends.pop("default", None)


@pytest.fixture
def quick_socket_checks(settings):
    """Sockets re-check their sign-in every 0.2 s instead of every few seconds."""
    settings.SOCKET_SESSION_CHECK_SECONDS = 0.2


def with_totp(user):
    """Give an account a TOTP authenticator, as staff must have before any staff page."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def alice(db):
    """A verified patient account."""
    return UserFactory(email="alice@example.com", name="Alice")


@pytest.fixture
def staff(db):
    """A platform admin who has not set up a second factor yet."""
    return StaffFactory(email="staff@example.com", name="Staff")


@pytest.fixture
def platform_admin(db):
    """A platform admin with a second factor: reaches every staff page."""
    return with_totp(StaffFactory(email="root@example.com", name="Root"))


def sign_in_recently(client, user):
    """Sign in as if the password was typed just now: pages behind allauth's
    reauthentication (bulk exports) open without asking for it again."""
    import time

    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )

    client.force_login(user)
    session = client.session
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": time.time(), "email": user.email}
    ]
    session.save()
    return user


@pytest.fixture
def clinic_hours():
    """The clock stands still at CLINIC_MOMENT, 09:55 Shanghai on a weekday."""
    with time_machine.travel(CLINIC_MOMENT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def clinic_hours_ticking():
    """The clock starts at CLINIC_MOMENT and runs: for sockets, browsers and live servers."""
    with time_machine.travel(CLINIC_MOMENT, tick=True) as traveller:
        yield traveller
