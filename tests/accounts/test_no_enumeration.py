"""Sign-in, sign-up and password reset answer the same whether or not an e-mail has an account:
the only difference is what reaches the mailbox (which only its owner reads)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

UNKNOWN = "nobody@example.com"  # the same length as alice@example.com


def comparable(response, email: str) -> tuple:
    """Status, target and page with the per-request tokens and the typed address masked."""
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "csrf", body)
    body = body.replace(email, "EMAIL")
    return response.status_code, response.get("Location"), body


def answered(method: str, url: str, email: str, data: dict, follow: bool = True):
    client = Client()
    response = getattr(client, method)(url, data, follow=follow)
    return comparable(response, email)


def test_a_failed_sign_in_reads_the_same_for_a_known_and_an_unknown_address(alice):
    def attempt(email):
        return answered(
            "post", reverse("account_login"), email, {"login": email, "password": "not-it-2026"}
        )

    known, unknown = attempt(alice.email), attempt(UNKNOWN)

    assert known[0] == 200
    assert known == unknown


def test_a_password_reset_reads_the_same_for_a_known_and_an_unknown_address(alice):
    def attempt(email):
        return answered("post", reverse("account_reset_password"), email, {"email": email})

    known, unknown = attempt(alice.email), attempt(UNKNOWN)

    assert known[0] == 200
    assert known == unknown


def test_signing_up_with_a_taken_address_reads_the_same_as_a_new_one(alice):
    def attempt(email, phone):
        return answered(
            "post",
            reverse("account_signup"),
            email,
            {
                "email": email,
                "phone": phone,
                "password1": "a sensible passphrase",
                "password2": "a sensible passphrase",
            },
            follow=False,
        )

    taken = attempt(alice.email, "138 0013 8001")
    new = attempt(UNKNOWN, "138 0013 8002")

    assert taken[0] == 302
    assert taken == new
