"""Staff hold a second factor before any staff page; the admin's login is allauth's, with MFA."""

from __future__ import annotations

import time

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_staff_signed_in_without_a_second_factor_is_sent_to_set_one_up(client, staff):
    client.force_login(staff)

    for path in ("/admin/", "/"):
        page = client.get(path)
        assert page.status_code == 302, path
        assert page["Location"] == reverse("mfa_activate_totp")

    told = client.get("/", follow=True)
    assert "Staff accounts need two-factor authentication" in told.content.decode()


def test_staff_who_sets_up_totp_then_reaches_the_admin(client, staff, password):
    signed_in = client.post(reverse("account_login"), {"login": staff.email, "password": password})
    assert client.get(signed_in["Location"])["Location"] == reverse("mfa_activate_totp")
    setup = client.get(reverse("mfa_activate_totp"))
    secret = setup.context["form"].secret

    done = client.post(reverse("mfa_activate_totp"), {"code": _current_code(secret)})

    assert done.status_code == 302
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()
    assert client.get("/admin/").status_code == 200


def test_patient_account_is_not_asked_for_a_second_factor(client, alice):
    client.force_login(alice)

    assert client.get("/").status_code == 200


def test_admin_login_goes_through_allauth_and_asks_for_the_second_factor(client, staff, password):
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)

    anonymous = client.get("/admin/", follow=True)
    login_url = anonymous.redirect_chain[-1][0]
    assert login_url.startswith(reverse("account_login"))  # not Django's own admin form

    after_password = client.post(login_url, {"login": staff.email, "password": password})
    assert after_password["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # a password alone signs nobody in
    assert client.get("/admin/").status_code == 302

    after_code = client.post(reverse("mfa_authenticate"), {"code": _current_code(secret)})

    assert after_code.status_code == 302
    assert after_code["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_totp_code_cannot_be_replayed(client, staff, password):
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    code = _current_code(secret)
    client.post(reverse("account_login"), {"login": staff.email, "password": password})
    client.post(reverse("mfa_authenticate"), {"code": code})
    client.post(reverse("account_logout"))

    client.post(reverse("account_login"), {"login": staff.email, "password": password})
    replay = client.post(reverse("mfa_authenticate"), {"code": code})

    assert replay.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session


def test_mfa_setup_long_after_sign_in_asks_for_the_password_again(client, staff, password):
    with time_machine.travel("2026-03-01 09:00 +0800", tick=False) as traveller:
        client.post(reverse("account_login"), {"login": staff.email, "password": password})
        assert client.get(reverse("mfa_activate_totp")).status_code == 200

        traveller.shift(600)  # past allauth's five-minute reauthentication window
        page = client.get(reverse("mfa_activate_totp"))

    assert page.status_code == 302
    assert page["Location"].startswith(reverse("account_reauthenticate"))
