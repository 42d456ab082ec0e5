"""Guessing one account's password from many machines: at most 100 guesses an hour are even
checked, whatever the address, the X-Forwarded-For header or the spelling of the e-mail."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import time_machine
from django.contrib.auth.signals import user_login_failed
from django.urls import reverse

from portal.adapters import login_throttle_key

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def spellings(email: str):
    """Case, accent and full-width variants of an address, round and round."""
    local, domain = email.split("@")
    variants = [
        email,
        email.upper(),
        f"{local.capitalize()}@{domain}",
        f"{local}@{domain.upper()}",
        f" {email} ",
        f"{local.replace('a', 'á', 1)}@{domain}",
        f"{local.replace('e', 'é', 1)}@{domain}",
        f"{local.replace('a', 'ａ', 1)}@{domain}",  # full-width a
        f"{local.upper().replace('A', 'Ä', 1)}@{domain}",
    ]
    return itertools.cycle(variants)


def test_the_throttle_key_folds_case_width_and_accents():
    for variant in (
        "Alice@Example.com",
        "álice@example.com",
        "ａlice@example.com",
        " ALİCE@example.com",
    ):
        assert login_throttle_key(variant).replace("i̇", "i") == "alice@example.com"


def test_a_thousand_guesses_from_a_thousand_addresses_get_at_most_100_checked_in_an_hour(
    client, alice
):
    checked = []

    def count(sender, credentials, **kwargs):
        checked.append(credentials)

    user_login_failed.connect(count)
    spelled = spellings(alice.email)
    answers = set()
    try:
        with time_machine.travel(START, tick=False) as clock:
            for attempt in range(1000):
                clock.shift(3.6)  # 1,000 guesses spread over one hour
                response = client.post(
                    reverse("account_login"),
                    {"login": next(spelled), "password": f"guess-{attempt}"},
                    REMOTE_ADDR=f"10.{attempt // 250}.{attempt % 250}.7",
                    HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt % 250}",
                )
                answers.add(response.status_code)
            assert "_auth_user_id" not in client.session
    finally:
        user_login_failed.disconnect(count)

    assert 0 < len(checked) <= 100
    assert answers == {200}  # every guess answered with the form, none signed in


def test_after_the_allowance_even_the_right_password_in_another_spelling_waits(
    client, alice, password
):
    with time_machine.travel(START, tick=False) as clock:
        for attempt in range(5):
            client.post(
                reverse("account_login"),
                {"login": alice.email, "password": "wrong-password"},
                REMOTE_ADDR=f"10.0.0.{attempt + 1}",
            )
        clock.shift(60)
        refused = client.post(
            reverse("account_login"),
            {"login": alice.email.upper(), "password": password},
            REMOTE_ADDR="192.0.2.99",
        )
        assert refused.status_code == 200
        assert "Too many failed login attempts" in refused.content.decode()

        clock.shift(5 * 60)  # the window has passed: the owner gets in
        allowed = client.post(
            reverse("account_login"),
            {"login": alice.email.upper(), "password": password},
            REMOTE_ADDR="192.0.2.99",
        )

        assert allowed.status_code == 302
        assert client.session["_auth_user_id"] == str(alice.pk)
