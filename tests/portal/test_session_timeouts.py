"""A sign-in ends after 15 idle minutes for staff, 30 for patients, and 12 hours in any case."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import with_totp

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MINUTE = 60


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def assert_sent_to_sign_in(page, path: str = "/") -> None:
    assert page.status_code == 302
    assert page["Location"] == f"{reverse('account_login')}?next={path.replace('/', '%2F')}"


def test_a_patient_idle_for_30_minutes_is_signed_out_but_29_is_fine(client, alice):
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(alice)
        clock.shift(29 * MINUTE)
        assert client.get("/").status_code == 200
        clock.shift(29 * MINUTE)  # activity above moved the idle clock on
        assert client.get("/").status_code == 200
        assert signed_in(client)

        clock.shift(30 * MINUTE)
        page = client.get("/")

        assert_sent_to_sign_in(page)
        assert not signed_in(client)
        told = client.get(page["Location"])
        assert "signed out after a while without activity" in told.content.decode()


def test_staff_are_signed_out_after_15_idle_minutes(client, staff):
    with_totp(staff)
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(staff)
        clock.shift(14 * MINUTE)
        assert client.get("/").status_code == 200

        clock.shift(15 * MINUTE)
        page = client.get("/manage/")

        assert_sent_to_sign_in(page, "/manage/")
        assert not signed_in(client)


def test_an_active_patient_is_still_signed_out_12_hours_after_signing_in(client, alice):
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(alice)
        for _ in range(12 * 6 - 1):  # a request every 10 minutes for 11 h 50 min
            clock.shift(10 * MINUTE)
            assert client.get("/").status_code == 200, "signed out too early"

        clock.shift(10 * MINUTE)
        page = client.get("/")

        assert_sent_to_sign_in(page)
        assert not signed_in(client)


def test_a_page_polling_in_the_background_does_not_keep_the_sign_in_alive(client, alice):
    poll = reverse("notification_unread")
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(alice)
        for _ in range(5):  # 25 minutes of a tab left open, polling its badge
            clock.shift(5 * MINUTE)
            assert client.get(poll, headers={"X-Portal-Background": "1"}).status_code == 200

        clock.shift(5 * MINUTE)
        polled = client.get(poll, headers={"X-Portal-Background": "1"})

        assert polled.status_code == 401
        assert not signed_in(client)


def test_signing_in_again_after_a_timeout_starts_fresh_clocks(client, alice, password):
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(alice)
        clock.shift(31 * MINUTE)
        client.get("/")
        assert not signed_in(client)

        client.post(reverse("account_login"), {"login": alice.email, "password": password})
        clock.shift(20 * MINUTE)

        assert client.get("/").status_code == 200
        assert signed_in(client)
