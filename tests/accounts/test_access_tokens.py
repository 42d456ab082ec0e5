"""Personal access tokens: created on /me/api-tokens/ after a fresh sign-in, shown once, stored
as a hash, audited; a wrong, revoked or expired token is a 401 with WWW-Authenticate."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import PersonalAccessToken
from accounts.services import access_token_create, access_token_revoke
from audit.models import AuditEvent
from tests.fhir import conftest as fhir
from tests.fhir.conftest import body, outcome

pytestmark = pytest.mark.django_db

# The FHIR tests' people (the token is read on /fhir/): bob a stranger, alice's daughter.
bob = fhir.bob
daughter = fhir.daughter

URL = "/me/api-tokens/"


def sign_in(client, account, password):
    response = client.post(reverse("account_login"), {"login": account.email, "password": password})
    assert response.status_code == 302


def test_a_token_is_created_after_a_fresh_sign_in_and_shown_once(client, alice, password):
    sign_in(client, alice, password)

    page = client.post(URL, {"action": "create", "name": "健康助手", "days": "30"})

    assert page.status_code == 200
    secret = page.context["new_secret"]
    assert secret.startswith("chp_")
    assert secret in page.content.decode()
    token = PersonalAccessToken.objects.get(owner=alice)
    assert token.token_hash == PersonalAccessToken.hash_secret(secret)
    assert secret not in str(PersonalAccessToken.objects.filter(pk=token.pk).values().first())
    assert token.expires_at - token.created_at == dt.timedelta(days=30)
    assert secret not in client.get(URL).content.decode()  # never shown again
    assert "健康助手" in client.get(URL).content.decode()
    assert AuditEvent.objects.filter(action="access_token.create", actor=alice).count() == 1

    response = client.get("/fhir/Patient", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200


def test_creating_a_token_long_after_sign_in_asks_for_the_password_again(client, alice, password):
    with time_machine.travel("2026-12-01 09:00 +0800", tick=False) as traveller:
        sign_in(client, alice, password)
        traveller.shift(600)

        page = client.post(URL, {"action": "create", "name": "app", "days": "30"})

    assert page.status_code == 302
    assert page["Location"].startswith(reverse("account_reauthenticate"))
    assert not PersonalAccessToken.objects.exists()


def test_the_token_page_needs_a_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_bad_choice_of_lifetime_is_refused(client, alice, password):
    sign_in(client, alice, password)

    page = client.post(URL, {"action": "create", "name": "app", "days": "10000"})

    assert page.status_code == 200
    assert page.context["form"].errors
    assert not PersonalAccessToken.objects.exists()


def test_revoking_stops_the_token_at_the_next_request(client, alice, password):
    token, secret = access_token_create(owner=alice, name="app", days=30)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert client.get("/fhir/Patient", **headers).status_code == 200
    client.force_login(alice)

    client.post(URL, {"action": "revoke", "token": token.pk})

    client.logout()
    response = client.get("/fhir/Patient", **headers)
    assert outcome(response, 401)["code"] == "login"
    assert response["WWW-Authenticate"] == 'Bearer realm="fhir", error="invalid_token"'
    assert AuditEvent.objects.filter(action="access_token.revoke", actor=alice).count() == 1


def test_another_accounts_token_cannot_be_revoked(client, alice, bob):
    token, _secret = access_token_create(owner=alice, name="app", days=30)
    client.force_login(bob)

    response = client.post(URL, {"action": "revoke", "token": token.pk})

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("token", ["abc", "-1", "1.5", "²", "9" * 10_240, "x" * 10_240])
def test_a_malformed_token_id_is_refused_with_the_page_again(client, alice, token):
    live, _secret = access_token_create(owner=alice, name="app", days=30)
    client.force_login(alice)

    response = client.post(URL, {"action": "revoke", "token": token})

    assert response.status_code == 400
    assert "Choose a token from the list to revoke." in response.content.decode()
    live.refresh_from_db()
    assert live.revoked_at is None


def test_the_malformed_token_id_message_is_translated(client, alice):
    client.force_login(alice)
    client.cookies["django_language"] = "zh-hans"

    # (override: the request leaves its language active, and later tests read English)
    with translation.override("zh-hans"):
        response = client.post(URL, {"action": "revoke", "token": "abc"})

    assert response.status_code == 400
    assert "请从列表中选择要撤销的令牌。" in response.content.decode()


def test_an_expired_token_is_refused(client, alice):
    _token, secret = access_token_create(owner=alice, name="app", days=7)

    with time_machine.travel(timezone.now() + dt.timedelta(days=7, seconds=1)):
        response = client.get("/fhir/Patient", HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert outcome(response, 401)["code"] == "login"
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ("Bearer chp_not-a-real-token", "invalid_token"),
        ("Bearer something-else", "invalid_token"),
        ("Basic YWxpY2U6cGFzcw==", "invalid_request"),
        ("Bearer ", "invalid_request"),
    ],
)
def test_a_wrong_token_is_a_401_even_on_public_resources(client, alice, header, error):
    for url in ("/fhir/Patient", "/fhir/metadata"):
        response = client.get(url, HTTP_AUTHORIZATION=header)
        assert outcome(response, 401)["code"] == "login"
        assert response["WWW-Authenticate"] == f'Bearer realm="fhir", error="{error}"'


def test_a_deactivated_accounts_token_stops_working(client, alice):
    _token, secret = access_token_create(owner=alice, name="app", days=30)
    alice.is_active = False
    alice.save()

    assert client.get("/fhir/Patient", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_a_token_acts_only_for_its_own_account(client, alice, bob, daughter):
    _token, secret = access_token_create(owner=bob, name="app", days=30)

    bundle = body(client.get("/fhir/Patient", HTTP_AUTHORIZATION=f"Bearer {secret}"))

    assert bundle.get("entry", []) == []


def test_revoking_twice_is_audited_once(alice):
    token, _secret = access_token_create(owner=alice, name="app", days=30)

    access_token_revoke(token=token, by=alice)
    access_token_revoke(token=token, by=alice)

    assert AuditEvent.objects.filter(action="access_token.revoke").count() == 1


def test_changing_the_password_revokes_every_token(client, alice, password):
    _token, secret = access_token_create(owner=alice, name="app", days=30)
    sign_in(client, alice, password)

    changed = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": password,
            "password1": "a new long passphrase 42",
            "password2": "a new long passphrase 42",
        },
    )

    assert changed.status_code == 302
    assert client.get("/fhir/Patient", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    assert AuditEvent.objects.get(action="access_token.revoke").data["why"] == "password_changed"
