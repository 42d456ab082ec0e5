"""A doctor's first sign-in: set up the authenticator, see the recovery codes, and go on from
there with "continue" to their day; every page carries the site's own favicon (no CDN)."""

from __future__ import annotations

import time

import pytest
from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from tests.factories import DoctorFactory, StaffMembershipFactory, UserFactory
from tests.sockets import browser_session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def test_after_the_recovery_codes_the_doctor_continues_to_their_day(page, live_server, password):
    doctor = DoctorFactory(user=UserFactory())
    StaffMembershipFactory(user=doctor.user, hospital=doctor.hospital, role="doctor")
    page.context.add_cookies(
        [
            browser_session_cookie(doctor.user, live_server.url),
            {"name": "django_language", "value": "en", "url": live_server.url},
        ]
    )
    page.goto(live_server.url + "/doctor/")  # staff without a second factor: set it up first
    # A session that did not just enter the password confirms it before set-up.
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(live_server.url + "/accounts/2fa/totp/activate/")

    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon.startswith("/static/")
    favicon = page.request.get(live_server.url + icon)
    assert favicon.ok and favicon.headers["content-type"] == "image/svg+xml"

    secret = page.locator("#authenticator_secret").input_value()
    counter = int(time.time()) // app_settings.TOTP_PERIOD
    page.get_by_label("Authenticator code").fill(format_hotp_value(hotp_value(secret, counter)))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url(live_server.url + "/accounts/2fa/recovery-codes/")

    page.get_by_role("link", name="Continue to My day").click()
    page.wait_for_url(live_server.url + "/doctor/")
