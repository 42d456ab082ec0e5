"""Sign-up with an SMS-verified mobile number and an optional e-mail, verified by a link."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from notifications import sms

pytestmark = pytest.mark.django_db


def _link_in(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def _sms_code() -> str:
    assert sms.outbox, "no SMS was sent"
    match = re.search(r"\b(\d{6})\b", sms.outbox[-1].text)
    assert match, sms.outbox[-1].text
    return match.group(1)


def _sign_up(client, email="new@example.com", phone="138 0013 8000"):
    return client.post(
        reverse("account_signup"),
        {
            "email": email,
            "phone": phone,
            "password1": "a sensible passphrase",
            "password2": "a sensible passphrase",
        },
    )


def test_signup_verifies_phone_by_sms_code_signs_in_and_sends_the_email_a_link(client):
    response = _sign_up(client)

    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert user.phone == "+8613800138000"  # typed the Chinese way, stored as E.164
    assert not user.phone_verified
    assert "_auth_user_id" not in client.session
    # First the mobile number: a six-digit code went out by SMS.
    assert response["Location"] == reverse("account_verify_phone")
    assert sms.outbox[-1].phone == "+8613800138000"

    after_code = client.post(reverse("account_verify_phone"), {"code": _sms_code()})

    user.refresh_from_db()
    assert user.phone_verified
    # E-mail verification is optional: the verified number signs the person in, and the
    # address gets its link (the only mail an unverified address ever gets).
    assert after_code.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.com"]
    assert not user.emailaddress_set.get().verified

    confirmed = client.post(_link_in(mail.outbox[0]), follow=True)

    assert confirmed.status_code == 200
    assert user.emailaddress_set.get().verified


def test_wrong_sms_code_is_refused_with_a_message_and_leaves_the_number_unverified(client):
    _sign_up(client)

    page = client.post(reverse("account_verify_phone"), {"code": "000000"})

    assert page.status_code == 200
    assert "Incorrect code" in page.content.decode()
    assert not User.objects.get(email="new@example.com").phone_verified
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("12345", "not a valid mobile number"),
        ("not a number", "Enter a mobile number"),
    ],
)
def test_signup_rejects_a_bad_phone_number_with_a_clear_message(client, phone, message):
    page = _sign_up(client, phone=phone)

    assert page.status_code == 200
    assert message in page.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()
    assert mail.outbox == []


def test_signup_with_an_existing_email_reveals_nothing_on_the_page(client, alice):
    page = _sign_up(client, email="Alice@Example.com")

    # Enumeration prevention: the same "check your mail" step as a new address.
    assert page.status_code == 302
    assert User.objects.filter(email__iexact="alice@example.com").count() == 1


def test_login_before_email_verification_signs_in_since_the_number_is_verified(client):
    _sign_up(client)
    client.post(reverse("account_verify_phone"), {"code": _sms_code()})
    client.cookies.clear()

    page = client.post(
        reverse("account_login"),
        {"login": "new@example.com", "password": "a sensible passphrase"},
    )

    assert page.status_code == 302
    assert page["Location"] == "/"
    assert "_auth_user_id" in client.session


def test_verified_account_signs_in_with_email_and_password(client, alice, password):
    page = client.post(
        reverse("account_login"), {"login": "ALICE@example.com", "password": password}
    )

    assert page.status_code == 302
    assert int(client.session["_auth_user_id"]) == alice.pk


def test_password_reset_mail_lets_the_person_choose_a_new_password(client, alice):
    client.post(reverse("account_reset_password"), {"email": "alice@example.com"})

    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/[^\s]+/)", mail.outbox[0].body)
    assert link
    form = client.get(link.group(1), follow=True)
    action = form.redirect_chain[-1][0] if form.redirect_chain else link.group(1)
    done = client.post(
        action, {"password1": "a brand new passphrase", "password2": "a brand new passphrase"}
    )
    assert done.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a brand new passphrase")


def test_repeated_wrong_passwords_are_rate_limited_even_before_the_right_one(
    client, alice, password
):
    for _ in range(5):
        wrong = client.post(reverse("account_login"), {"login": alice.email, "password": "nope"})
        assert "Too many failed login attempts" not in wrong.content.decode()

    locked = client.post(reverse("account_login"), {"login": alice.email, "password": password})

    assert "Too many failed login attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
