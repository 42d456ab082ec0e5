"""Another account's person is a 404 on every URL; a revoked link stops working at once."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from records.models import GuardianInvitation, Patient, PatientLink
from tests.factories import ConsentFactory, PatientLinkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bobs_child(bob):
    link = PatientLinkFactory(account=bob)
    patient = link.patient
    consent = ConsentFactory(patient=patient, given_by=bob)
    invitation = GuardianInvitation.objects.create(
        patient=patient,
        invited_by=bob,
        email="carol@example.com",
        relationship="child",
        token_hash="0" * 64,
        expires_at=timezone.now() + GuardianInvitation.VALID_FOR,
    )
    return patient, link, consent, invitation


def _every_url(patient, link, consent, invitation) -> list[tuple[str, str]]:
    pid = patient.public_id
    return [
        ("get", reverse("patient_detail", args=[pid])),
        ("get", reverse("patient_edit", args=[pid])),
        ("post", reverse("patient_edit", args=[pid])),
        ("get", reverse("patient_remove", args=[pid])),
        ("post", reverse("patient_remove", args=[pid])),
        ("get", reverse("patient_invite", args=[pid])),
        ("post", reverse("patient_invite", args=[pid])),
        ("post", reverse("invitation_revoke", args=[pid, invitation.public_id])),
        ("post", reverse("link_revoke", args=[pid, link.public_id])),
        ("post", reverse("consent_give", args=[pid])),
        ("post", reverse("consent_revoke", args=[pid, consent.public_id])),
    ]


def test_another_accounts_person_is_not_found_on_every_url(client, alice, bobs_child):
    _patient, link, consent, invitation = bobs_child
    client.force_login(alice)

    for method, url in _every_url(*bobs_child):
        response = getattr(client, method)(url, {"kind": "id_and_health_data", "email": "x@y.cn"})
        assert response.status_code == 404, (method, url)

    # …and nothing changed.
    link.refresh_from_db()
    consent.refresh_from_db()
    invitation.refresh_from_db()
    assert link.revoked_at is None and consent.revoked_at is None
    assert invitation.status == "pending"
    assert Patient.objects.count() == 1


def test_signed_out_visitors_are_sent_to_sign_in(client, bobs_child):
    for method, url in [*_every_url(*bobs_child), ("get", reverse("patient_list"))]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, (method, url)
        assert response.url.startswith(reverse("account_login"))


def test_a_person_is_addressed_by_an_unguessable_id_never_the_row_number(client, bob, bobs_child):
    patient = bobs_child[0]
    client.force_login(bob)

    html = client.get(reverse("patient_list")).content.decode()

    assert str(patient.public_id) in html
    assert client.get(f"/me/patients/{patient.pk}/").status_code == 404


def test_a_revoked_link_loses_access_at_the_next_request(client, alice, bob, bobs_child):
    patient, _bobs_link, *_ = bobs_child
    alices = PatientLinkFactory(patient=patient, account=alice, is_manager=False)
    client.force_login(alice)
    detail = reverse("patient_detail", args=[patient.public_id])
    assert client.get(detail).status_code == 200

    bob_client = client.__class__()
    bob_client.force_login(bob)
    bob_client.post(reverse("link_revoke", args=[patient.public_id, alices.public_id]))

    assert client.get(detail).status_code == 404
    assert patient.name not in client.get(reverse("patient_list")).content.decode()
    alices.refresh_from_db()
    assert alices.revoked_at is not None


def test_a_second_guardian_sees_the_person_but_cannot_edit_or_invite(client, alice, bobs_child):
    patient = bobs_child[0]
    PatientLinkFactory(patient=patient, account=alice, is_manager=False)
    client.force_login(alice)

    detail = client.get(reverse("patient_detail", args=[patient.public_id])).content.decode()
    edit = client.post(
        reverse("patient_edit", args=[patient.public_id]), {"name": "x"}, follow=True
    )

    assert reverse("patient_edit", args=[patient.public_id]) not in detail
    assert "Only the account that manages this person can do that." in edit.content.decode()
    patient.refresh_from_db()
    assert patient.name != "x"


def test_a_guardian_cannot_revoke_the_managers_link(client, alice, bob, bobs_child):
    patient, bobs_link, *_ = bobs_child
    PatientLinkFactory(patient=patient, account=alice, is_manager=False)
    client.force_login(alice)

    response = client.post(
        reverse("link_revoke", args=[patient.public_id, bobs_link.public_id]), follow=True
    )

    assert "Only the account that manages this person can do that." in response.content.decode()
    assert PatientLink.objects.live().filter(pk=bobs_link.pk).exists()
