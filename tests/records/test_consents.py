"""PIPL consents: separate, recorded with the text version, given by a guardian for a child
under 14 (counted on Shanghai's calendar), listed and revocable on the person's page."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from audit.models import AuditEvent
from records.idnumbers import make_id_number
from records.models import Consent
from records.selectors import patient_has_consent
from tests.factories import ConsentFactory, PatientLinkFactory

pytestmark = pytest.mark.django_db

KIND = "id_and_health_data"


def _add(client, birth: dt.date, relationship: str = "child"):
    return client.post(
        reverse("patient_add"),
        {
            "relationship": relationship,
            "name": "陈一",
            "id_number": make_id_number(birth_date=birth, sex="female", sequence=11),
            "sex": "female",
            "birth_date": birth.isoformat(),
            "consent_id_and_health_data": "on",
            "confirmed": "True",
        },
    )


@pytest.mark.parametrize(
    ("now_utc", "behalf"),
    [
        # 2012-03-01 14:00 in Shanghai is still the day before the 14th birthday…
        (dt.datetime(2026, 2, 28, 15, 59, tzinfo=dt.UTC), "guardian"),
        # …and at 00:00 Shanghai time (16:00 UTC) the child turns 14.
        (dt.datetime(2026, 2, 28, 16, 0, tzinfo=dt.UTC), "family"),
    ],
)
def test_a_guardian_consents_for_a_child_under_14_counted_in_shanghai(
    client, alice, now_utc, behalf
):
    client.force_login(alice)

    with time_machine.travel(now_utc, tick=False):
        _add(client, dt.date(2012, 3, 1))

    assert Consent.objects.get().on_behalf == behalf


def test_an_adult_adding_themselves_consents_for_themselves(client, alice):
    client.force_login(alice)

    _add(client, dt.date(1990, 5, 5), relationship="self")

    assert Consent.objects.get().on_behalf == "self"


def test_a_child_cannot_be_added_as_the_accounts_own_self(client, alice):
    client.force_login(alice)

    response = _add(client, dt.date(2020, 5, 5), relationship="self")

    assert "A child under 14 is added by a guardian" in response.content.decode()
    assert not Consent.objects.exists()


@pytest.fixture
def child_with_consent(alice):
    link = PatientLinkFactory(account=alice)
    return link.patient, ConsentFactory(patient=link.patient, given_by=alice)


def test_consents_are_listed_on_the_persons_page(client, alice, child_with_consent):
    patient, consent = child_with_consent
    client.force_login(alice)

    html = client.get(reverse("patient_detail", args=[patient.public_id])).content.decode()

    assert "Processing of ID and health data" in html
    assert consent.text_version in html
    assert reverse("consent_revoke", args=[patient.public_id, consent.public_id]) in html


def test_withdrawing_a_consent_is_recorded_and_it_can_be_given_again(
    client, alice, child_with_consent
):
    patient, consent = child_with_consent
    client.force_login(alice)

    client.post(reverse("consent_revoke", args=[patient.public_id, consent.public_id]))

    consent.refresh_from_db()
    assert consent.revoked_at is not None and consent.revoked_by == alice
    assert not patient_has_consent(patient=patient, kind=KIND)
    assert AuditEvent.objects.filter(action="consent.revoke", actor=alice).exists()
    html = client.get(reverse("patient_detail", args=[patient.public_id])).content.decode()
    assert "not given" in html

    client.post(reverse("consent_give", args=[patient.public_id]), {"kind": KIND})

    assert patient_has_consent(patient=patient, kind=KIND)
    assert Consent.objects.filter(patient=patient).count() == 2  # the history stays


@pytest.mark.parametrize(
    "after", ["18", "²", "patient_list", "x" * 10_240, "//evil.example/", "https://evil.example/"]
)
def test_a_return_address_that_is_not_a_path_here_goes_back_to_the_person(
    client, alice, child_with_consent, after
):
    patient, consent = child_with_consent
    client.force_login(alice)

    response = client.post(
        reverse("consent_revoke", args=[patient.public_id, consent.public_id]), {"next": after}
    )

    assert response.status_code == 302
    assert response["Location"] == patient.get_absolute_url()
    consent.refresh_from_db()
    assert consent.revoked_at is not None


def test_a_return_address_on_this_site_is_followed(client, alice, child_with_consent):
    patient, consent = child_with_consent
    client.force_login(alice)

    response = client.post(
        reverse("consent_revoke", args=[patient.public_id, consent.public_id]),
        {"next": "/me/record/"},
    )

    assert response["Location"] == "/me/record/"


def test_a_guardian_who_does_not_manage_the_person_cannot_withdraw_consent(
    client, bob, child_with_consent
):
    patient, consent = child_with_consent
    PatientLinkFactory(patient=patient, account=bob, is_manager=False)
    client.force_login(bob)

    response = client.post(
        reverse("consent_revoke", args=[patient.public_id, consent.public_id]), follow=True
    )

    assert "Only the account that manages this person can change their consents." in (
        response.content.decode()
    )
    consent.refresh_from_db()
    assert consent.revoked_at is None


def test_an_unknown_consent_kind_is_not_found(client, alice, child_with_consent):
    patient, _ = child_with_consent
    client.force_login(alice)

    response = client.post(reverse("consent_give", args=[patient.public_id]), {"kind": "marketing"})

    assert response.status_code == 404
