"""/me/api-tokens/results/ (issue 15): a hospital's staff create a results.write token for
their hospital, only just after passing their second factor again; nobody else reaches it."""

from __future__ import annotations

import time

import pytest
from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY,
    AUTHENTICATION_METHODS_SESSION_KEY,
)

from accounts.models import PersonalAccessToken
from tests.records.exams import exams_world

pytestmark = pytest.mark.django_db
URL = "/me/api-tokens/results/"


def _passed_second_factor(client, user, *, seconds_ago: float = 0) -> None:
    client.force_login(user)
    session = client.session
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": time.time() - seconds_ago},
        {"method": "mfa", "type": "totp", "at": time.time() - seconds_ago},
    ]
    session.save()


def _form(world) -> dict:
    return {"hospital": world.clinic.pk, "name": "LIS", "days": 90}


def test_staff_create_a_results_token_after_their_second_factor(client):
    world = exams_world()
    _passed_second_factor(client, world.gp)
    page = client.get(URL)
    assert page.status_code == 200 and world.clinic.name_en in page.content.decode()
    response = client.post(URL, _form(world))
    assert response.status_code == 200
    token = PersonalAccessToken.objects.get(owner=world.gp)
    assert token.scope == "results.write" and token.scope_hospital_id == world.clinic.pk
    assert token.hint in response.content.decode()


def test_a_password_alone_or_an_old_second_factor_is_sent_to_reauthenticate(client):
    world = exams_world()
    client.force_login(world.gp)
    response = client.post(URL, _form(world))
    assert response.status_code == 302 and "/2fa/reauthenticate/" in response["Location"]
    _passed_second_factor(client, world.gp, seconds_ago=3600)
    assert client.post(URL, _form(world)).status_code == 302
    assert not PersonalAccessToken.objects.exists()


def test_no_token_for_a_hospital_the_account_does_not_work_at(client):
    world = exams_world()
    _passed_second_factor(client, world.gp)
    response = client.post(URL, dict(_form(world), hospital=world.cloud.pk))
    assert response.status_code == 400
    assert not PersonalAccessToken.objects.exists()


def test_a_family_account_gets_a_404(client):
    world = exams_world()
    client.force_login(world.family)
    assert client.get(URL).status_code == 404
