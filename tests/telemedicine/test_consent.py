"""The telemedicine consent (DESIGN.md §3): the patient side needs a live one to join a consult;
the room page asks for it and lets the account that holds the person's consents give it there.
The doctor side is not affected. A withdrawal counts from the next join."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from records.models import Consent
from telemedicine.models import Consultation
from telemedicine.services import ConsentNeeded, consultation_join
from tests.factories import PatientLinkFactory, UserFactory
from tests.telemedicine.conftest import in_room_time, online_booking

pytestmark = pytest.mark.django_db


def test_the_patient_side_cannot_join_without_the_consent_but_the_doctor_can():
    appointment, account, doctor = online_booking(telemedicine_consent=False)
    consultation = appointment.consultation

    with time_machine.travel(in_room_time(appointment), tick=False):
        with pytest.raises(ConsentNeeded) as refused:
            consultation_join(consultation=consultation, account=account)
        assert refused.value.code == "consent"
        _consultation, role = consultation_join(consultation=consultation, account=doctor)

    assert role == "doctor"
    consultation.refresh_from_db()
    appointment.refresh_from_db()
    assert consultation.patient_joined_at is None and consultation.status == "scheduled"
    assert appointment.status == "booked"  # not checked in by a refused join


def test_the_room_asks_for_the_consent_and_giving_it_there_leads_straight_back(client):
    appointment, account, _ = online_booking(telemedicine_consent=False)
    room = reverse("consult_room", args=[appointment.consultation.public_id])
    client.force_login(account)

    page = client.get(room)

    html = page.content.decode()
    assert page.status_code == 200
    assert "has not agreed to consults by video" in html
    assert "telemedicine/room.js" not in html
    assert reverse("consent_give", args=[appointment.patient.public_id]) in html

    given = client.post(
        reverse("consent_give", args=[appointment.patient.public_id]),
        {"kind": "telemedicine", "next": room},
    )

    assert given.status_code == 302 and given.url == room
    assert Consent.objects.filter(
        patient=appointment.patient, kind="telemedicine", revoked_at=None
    ).exists()
    assert "telemedicine/room.js" in client.get(room).content.decode()


def test_a_next_address_off_the_site_is_ignored(client):
    appointment, account, _ = online_booking(telemedicine_consent=False)
    client.force_login(account)
    given = client.post(
        reverse("consent_give", args=[appointment.patient.public_id]),
        {"kind": "telemedicine", "next": "https://evil.example.com/"},
    )
    assert given.url == reverse("patient_detail", args=[appointment.patient.public_id])


def test_a_second_guardian_is_told_to_ask_the_manager(client):
    appointment, _, _ = online_booking(telemedicine_consent=False)
    helper = UserFactory()
    PatientLinkFactory(
        patient=appointment.patient, account=helper, is_manager=False, relationship="child"
    )
    client.force_login(helper)

    html = client.get(reverse("consult_room", args=[appointment.consultation.public_id]))

    assert "Only the account that manages this person can give it." in html.content.decode()


def test_the_doctors_room_is_not_affected(client):
    appointment, _, doctor = online_booking(telemedicine_consent=False)
    client.force_login(doctor)
    html = client.get(reverse("consult_room", args=[appointment.consultation.public_id]))
    assert "telemedicine/room.js" in html.content.decode()


def test_a_withdrawn_consent_refuses_the_next_join(client):
    appointment, account, _ = online_booking()
    consultation = appointment.consultation
    with time_machine.travel(in_room_time(appointment), tick=False):
        consultation_join(consultation=consultation, account=account)

        consent = Consent.objects.get(patient=appointment.patient, kind="telemedicine")
        client.force_login(account)
        client.post(
            reverse("consent_revoke", args=[appointment.patient.public_id, consent.public_id])
        )

        with pytest.raises(ConsentNeeded):
            consultation_join(consultation=consultation, account=account)
        room = client.get(reverse("consult_room", args=[consultation.public_id]))
    assert "has not agreed to consults by video" in room.content.decode()
    assert Consultation.objects.get(pk=consultation.pk).status == "waiting"


def test_the_consent_page_is_not_shown_in_place_of_a_404(client):
    appointment, _, _ = online_booking(telemedicine_consent=False)
    client.force_login(UserFactory())
    room = reverse("consult_room", args=[appointment.consultation.public_id])
    assert client.get(room).status_code == 404
