"""A second guardian, invited by e-mail: accept, decline, withdraw; single-use, seven days."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from notifications.models import OutboxMessage
from notifications.services import outbox_deliver_due
from records import services
from records.models import GuardianInvitation, PatientLink
from tests.factories import PatientLinkFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def child(alice):
    return PatientLinkFactory(account=alice).patient


@pytest.fixture
def carol(db):
    return UserFactory(email="carol@example.com", name="Carol")


def _invite(client, alice, child, django_capture_on_commit_callbacks, **extra) -> str:
    client.force_login(alice)
    data = {"email": "Carol@Example.com", "relationship": "child", "can_book": "on", **extra}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("patient_invite", args=[child.public_id]), data)
    assert response.status_code == 302
    outbox_deliver_due()
    link = re.search(r"/me/patients/invitations/([\w-]+)/", mail.outbox[-1].body)
    return link.group(1)


def test_the_manager_invites_by_email_and_only_a_hash_of_the_token_is_kept(
    client, alice, child, django_capture_on_commit_callbacks
):
    token = _invite(client, alice, child, django_capture_on_commit_callbacks)

    invitation = GuardianInvitation.objects.get()
    assert mail.outbox[0].to == ["carol@example.com"]
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(GuardianInvitation.objects.values().get())


def test_the_invitation_waits_in_the_outbox_and_its_one_time_link_is_not_kept_once_sent(
    client, alice, child, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("patient_invite", args=[child.public_id]),
            {"email": "new.person@example.com", "relationship": "child", "can_book": "on"},
        )
    row = OutboxMessage.objects.get(kind="invitation.sent")
    assert (row.account, row.address, row.channel, row.state) == (
        None,
        "new.person@example.com",
        "email",
        "pending",
    )
    assert mail.outbox == []  # written with the invitation, sent by the outbox

    outbox_deliver_due()

    [message] = mail.outbox
    token = re.search(r"/me/patients/invitations/([\w-]+)/", message.body).group(1)
    assert message.to == ["new.person@example.com"]
    row.refresh_from_db()
    assert (row.state, row.body) == ("sent", "")
    assert token not in str(OutboxMessage.objects.values().get())


def test_no_email_is_sent_when_the_invitation_is_rolled_back(
    alice, child, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.invitation_create(
            patient=child, invited_by=alice, email="carol@example.com", relationship="child"
        )
        raise RuntimeError("the request failed after the invitation")

    outbox_deliver_due()
    assert mail.outbox == []
    assert not GuardianInvitation.objects.exists()


def test_accepting_links_the_invited_account_with_the_rights_it_was_given(
    client, alice, carol, child, django_capture_on_commit_callbacks
):
    token = _invite(client, alice, child, django_capture_on_commit_callbacks)
    client.force_login(carol)

    response = client.post(reverse("invitation_respond", args=[token]), {"answer": "accept"})

    assert response.status_code == 302
    link = PatientLink.objects.get(account=carol)
    assert (link.relationship, link.can_book, link.can_read_record, link.is_manager) == (
        "child",
        True,
        False,
        False,
    )
    assert client.get(reverse("patient_detail", args=[child.public_id])).status_code == 200
    assert GuardianInvitation.objects.get().status == "accepted"


def test_the_link_works_once(client, alice, carol, child, django_capture_on_commit_callbacks):
    token = _invite(client, alice, child, django_capture_on_commit_callbacks)
    client.force_login(carol)
    url = reverse("invitation_respond", args=[token])
    client.post(url, {"answer": "accept"})

    again = client.post(url, {"answer": "accept"})

    assert again.status_code == 400
    assert "no longer valid" in again.content.decode()
    assert PatientLink.objects.filter(account=carol).count() == 1


def test_an_account_with_another_email_cannot_accept(
    client, alice, bob, child, django_capture_on_commit_callbacks
):
    token = _invite(client, alice, child, django_capture_on_commit_callbacks)
    client.force_login(bob)

    response = client.post(reverse("invitation_respond", args=[token]), {"answer": "accept"})

    assert response.status_code == 400
    assert "sent to another e-mail address" in response.content.decode()
    assert not PatientLink.objects.filter(account=bob).exists()
    assert GuardianInvitation.objects.get().status == "pending"


def test_an_unverified_address_cannot_accept(
    client, alice, carol, child, django_capture_on_commit_callbacks
):
    EmailAddress.objects.filter(user=carol).update(verified=False)
    token = _invite(client, alice, child, django_capture_on_commit_callbacks)
    client.force_login(carol)

    response = client.post(reverse("invitation_respond", args=[token]), {"answer": "accept"})

    assert response.status_code == 400
    assert not PatientLink.objects.filter(account=carol).exists()


def test_declining_leaves_no_link(client, alice, carol, child, django_capture_on_commit_callbacks):
    token = _invite(client, alice, child, django_capture_on_commit_callbacks)
    client.force_login(carol)

    client.post(reverse("invitation_respond", args=[token]), {"answer": "decline"})

    assert GuardianInvitation.objects.get().status == "declined"
    assert not PatientLink.objects.filter(account=carol).exists()


def test_a_withdrawn_invitation_can_no_longer_be_accepted(
    client, alice, carol, child, django_capture_on_commit_callbacks
):
    token = _invite(client, alice, child, django_capture_on_commit_callbacks)
    invitation = GuardianInvitation.objects.get()
    client.post(reverse("invitation_revoke", args=[child.public_id, invitation.public_id]))
    client.force_login(carol)

    response = client.post(reverse("invitation_respond", args=[token]), {"answer": "accept"})

    assert response.status_code == 400
    assert GuardianInvitation.objects.get().status == "revoked"
    assert not PatientLink.objects.filter(account=carol).exists()


def test_an_invitation_expires_after_seven_days(
    client, alice, carol, child, django_capture_on_commit_callbacks
):
    with time_machine.travel(dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC), tick=False):
        token = _invite(client, alice, child, django_capture_on_commit_callbacks)
    client.force_login(carol)

    with time_machine.travel(dt.datetime(2026, 11, 8, 9, 1, tzinfo=dt.UTC), tick=False):
        response = client.post(reverse("invitation_respond", args=[token]), {"answer": "accept"})

    assert response.status_code == 400
    assert not PatientLink.objects.filter(account=carol).exists()


def test_an_unknown_token_is_not_found(client, carol):
    client.force_login(carol)

    assert client.get(reverse("invitation_respond", args=["nope"])).status_code == 404


def test_accepting_counts_against_the_six_people_of_the_invited_account(
    client, alice, carol, child, django_capture_on_commit_callbacks
):
    PatientLinkFactory.create_batch(6, account=carol)
    token = _invite(client, alice, child, django_capture_on_commit_callbacks)
    client.force_login(carol)

    response = client.post(reverse("invitation_respond", args=[token]), {"answer": "accept"})

    assert "at most 6 people" in response.content.decode()
    assert not PatientLink.objects.filter(account=carol, patient=child).exists()


def test_a_guardian_who_is_not_the_manager_cannot_invite(client, carol, child):
    PatientLinkFactory(account=carol, patient=child, is_manager=False)
    client.force_login(carol)

    response = client.post(
        reverse("patient_invite", args=[child.public_id]),
        {"email": "dave@example.com", "relationship": "child"},
    )

    assert response.status_code == 302
    assert not GuardianInvitation.objects.exists()
