"""The record export: the $everything Bundle as a file, after a fresh sign-in, audited."""

from __future__ import annotations

import json

import pytest
import time_machine
from django.urls import reverse

from audit.models import AuditEvent
from records.models import today_in_city
from tests.fhir.conftest import entries, validate

pytestmark = pytest.mark.django_db


def sign_in(client, account, password):
    response = client.post(reverse("account_login"), {"login": account.email, "password": password})
    assert response.status_code == 302


def export_url(patient) -> str:
    return reverse("record_export", args=[patient.public_id])


def test_the_export_is_the_everything_bundle_as_a_download(
    client, alice, password, daughter, record
):
    sign_in(client, alice, password)

    response = client.get(export_url(daughter))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response["Content-Disposition"] == (
        f'attachment; filename="record-{today_in_city().isoformat()}.json"'
    )
    bundle = json.loads(response.content)
    validate(bundle)
    assert entries(bundle, "Patient")[0]["id"] == str(daughter.public_id)
    assert entries(bundle, "Encounter")
    event = AuditEvent.objects.get(action="record.export")
    assert event.actor == alice
    assert event.on_behalf_id == str(daughter.pk)
    assert event.data["entries"] == bundle["total"]


def test_the_export_asks_for_the_password_again_after_five_minutes(
    client, alice, password, daughter
):
    with time_machine.travel("2026-12-01 09:00 +0800", tick=False) as traveller:
        sign_in(client, alice, password)
        traveller.shift(301)
        response = client.get(export_url(daughter))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_reauthenticate"))
        assert not AuditEvent.objects.filter(action="record.export").exists()

        client.post(reverse("account_reauthenticate"), {"password": password})
        assert client.get(export_url(daughter)).status_code == 200


def test_a_session_without_a_recorded_sign_in_must_reauthenticate(client, alice, daughter):
    client.force_login(alice)

    response = client.get(export_url(daughter))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


@pytest.mark.parametrize("who", ["stranger", "doctor"])
def test_others_get_a_404(client, bob, dr_chen, password, daughter, record, who):
    account = bob if who == "stranger" else dr_chen.user
    if who == "doctor":
        client.force_login(account)
        client.post(reverse("account_reauthenticate"), {"password": password})
    else:
        sign_in(client, account, password)

    response = client.get(export_url(daughter))

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="record.export").exists()
