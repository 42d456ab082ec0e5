"""The full ID number never leaves the database: every page, e-mail and log line is masked."""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from django.urls import reverse

from notifications.services import outbox_deliver_due
from records import services
from tests.factories import ConsentFactory, PatientLinkFactory

pytestmark = pytest.mark.django_db

PHONE = "+8613912345678"


@pytest.fixture
def alices_child(alice):
    link = PatientLinkFactory(account=alice, patient__phone=PHONE)
    ConsentFactory(patient=link.patient, given_by=alice)
    return link.patient


def _pages(patient) -> list[str]:
    pid = patient.public_id
    return [
        reverse("patient_list"),
        reverse("patient_detail", args=[pid]),
        reverse("patient_edit", args=[pid]),
        reverse("patient_remove", args=[pid]),
        reverse("patient_invite", args=[pid]),
    ]


def test_every_page_that_shows_a_person_shows_the_id_masked(client, alice, alices_child):
    client.force_login(alice)
    number = alices_child.id_number
    masked = alices_child.id_number_masked
    assert masked == number[:6] + "********" + number[-4:]

    for url in _pages(alices_child):
        html = client.get(url).content.decode()
        assert number not in html, url
        assert number[6:14] not in html, url  # not even the birth-date digits

    for url in _pages(alices_child)[:2] + _pages(alices_child)[3:]:
        assert masked in client.get(url).content.decode(), url


def test_the_edit_form_never_fills_in_the_number(client, alice, alices_child):
    client.force_login(alice)

    form = client.get(reverse("patient_edit", args=[alices_child.public_id])).context["form"]

    assert not form["id_number"].value()
    assert alices_child.id_number_masked in str(form["id_number"].help_text)


def test_the_phone_is_masked_on_the_list_and_the_persons_page(client, alice, alices_child):
    client.force_login(alice)

    for url in _pages(alices_child)[:2]:
        html = client.get(url).content.decode()
        assert PHONE not in html and "13912345678" not in html
        assert "+86 139****5678" in html


def test_the_invitation_email_and_page_show_the_masked_id_only(
    client, alice, alices_child, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, token = services.invitation_create(
            patient=alices_child,
            invited_by=alice,
            email="carol@example.com",
            relationship="child",
            base_url="https://portal.example.cn",
        )
    outbox_deliver_due()

    message = mail.outbox[0]
    text = message.subject + message.body
    assert alices_child.id_number not in text
    assert alices_child.id_number_masked in message.body
    assert f"https://portal.example.cn/me/patients/invitations/{token}/" in message.body
    assert alices_child.id_number not in caplog.text

    from tests.factories import UserFactory

    carol = UserFactory(email="carol@example.com")
    client.force_login(carol)
    html = client.get(reverse("invitation_respond", args=[token])).content.decode()
    assert alices_child.id_number_masked in html
    assert alices_child.id_number not in html


def test_the_audit_trail_never_holds_the_full_number(client, alice, child_form):
    client.force_login(alice)
    client.post(reverse("patient_add"), child_form)

    from audit.models import AuditEvent

    for event in AuditEvent.objects.all():
        assert child_form["id_number"] not in str(event.data)


def test_the_platform_admin_sees_people_masked_too(client, staff, alices_child):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(staff, generate_totp_secret())
    assert Authenticator.objects.filter(user=staff).exists()
    client.force_login(staff)

    pages = {
        url: client.get(url)
        for url in (
            reverse("admin:records_patient_changelist"),
            reverse("admin:records_patient_change", args=[alices_child.pk]),
            reverse("admin:records_consent_changelist"),
        )
    }

    for url, response in pages.items():
        html = response.content.decode()
        assert response.status_code == 200, url
        assert alices_child.id_number not in html, url
        assert alices_child.id_number_encrypted not in html, url
        assert alices_child.id_number_masked in html, url
