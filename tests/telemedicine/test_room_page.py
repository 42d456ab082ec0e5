"""The room page and its ICE servers: only the appointment's people, TURN credentials that
coturn's `use-auth-secret` accepts and that expire with the consult."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from tests.factories import UserFactory
from tests.telemedicine.conftest import online_booking

pytestmark = pytest.mark.django_db


def test_the_patient_sees_the_waiting_room_and_no_patient_panel(client):
    appointment, account, _ = online_booking()
    client.force_login(account)
    response = client.get(f"/consult/{appointment.consultation.public_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Before the call" in html and "telemedicine/room.js" in html
    assert 'id="admit"' not in html
    assert appointment.patient.id_number_masked not in html


def test_the_doctor_sees_the_patients_basic_details_with_the_id_masked(client):
    appointment, _, doctor = online_booking()
    client.force_login(doctor)
    response = client.get(f"/consult/{appointment.consultation.public_id}/")
    html = response.content.decode()
    patient = appointment.patient
    assert patient.name in html and patient.id_number_masked in html
    assert "*" in patient.id_number_masked
    assert 'id="admit"' in html


@pytest.mark.parametrize("path", ["", "ice-servers"])
def test_anyone_else_gets_a_404_and_the_anonymous_a_login(client, path):
    appointment, _, _ = online_booking()
    url = f"/consult/{appointment.consultation.public_id}/{path}"
    assert client.get(url).status_code == 302
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    assert client.get(f"/consult/not-a-uuid/{path}").status_code == 404


def test_turn_credentials_follow_coturns_rest_scheme_and_expire_with_the_consult(client, settings):
    settings.STUN_URLS = ["stun:stun.example.org:3478"]
    settings.TURN_URLS = ["turn:turn.example.org:3478?transport=udp"]
    settings.TURN_SHARED_SECRET = "s3cret"
    appointment, account, _ = online_booking()
    client.force_login(account)
    response = client.get(f"/consult/{appointment.consultation.public_id}/ice-servers")
    body = response.json()
    stun, turn = body["iceServers"]
    assert stun == {"urls": ["stun:stun.example.org:3478"]}
    expiry = int(appointment.consultation.closes_at.timestamp())
    assert turn["username"] == f"{expiry}:{account.pk}"
    expected = base64.b64encode(
        hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()
    ).decode()
    assert turn["credential"] == expected
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


def test_without_a_turn_secret_no_turn_server_is_offered(client, settings):
    settings.STUN_URLS = []
    settings.TURN_URLS = ["turn:turn.example.org:3478"]
    settings.TURN_SHARED_SECRET = ""
    appointment, account, _ = online_booking()
    client.force_login(account)
    body = client.get(f"/consult/{appointment.consultation.public_id}/ice-servers").json()
    assert body["iceServers"] == []


def test_the_appointment_page_links_the_room_and_the_ics_locates_the_consult_there(client):
    from icalendar import Calendar

    appointment, account, _ = online_booking()
    client.force_login(account)
    room = f"/consult/{appointment.consultation.public_id}/"
    page = client.get(f"/appointments/{appointment.code}/").content.decode()
    assert f'href="{room}"' in page
    calendar = Calendar.from_ical(client.get(f"/appointments/{appointment.code}.ics").content)
    assert str(calendar.walk("VEVENT")[0]["LOCATION"]).endswith(room)
