"""The doctor's sessions feed: a valid iCalendar with sessions only, behind a revocable link."""

from __future__ import annotations

import pytest
from django.urls import reverse
from icalendar import Calendar

from appointments.models import CalendarToken
from appointments.services import calendar_token_issue, calendar_token_revoke
from audit.models import AuditEvent
from hospitals.models import StaffMembership
from tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


def _feed(client, site, secret=None, doctor=None):
    url = reverse("doctor_sessions_ics", kwargs={"doctor_id": (doctor or site["doctor"]).pk})
    return client.get(url, {"token": site["secret"] if secret is None else secret})


def test_the_feed_is_a_valid_calendar_of_sessions_with_no_patient_data(client, hospital_a):
    slot = hospital_a["slot"]
    SlotFactory(doctor=hospital_a["doctor"], rule=hospital_a["rule"], start=slot.end, booked=2)

    response = _feed(client, hospital_a)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar"
    calendar = Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == slot.start
    assert event.decoded("dtend") == slot.end + (slot.end - slot.start)
    assert str(event["status"]) == "CONFIRMED"
    assert "3 of 6 places booked" in str(event["description"])
    body = response.content.decode()
    for private in ("ATTENDEE", "alice", "patient", "@example.com"):
        assert private not in body
    token = CalendarToken.objects.get(pk=hospital_a["token"].pk)
    assert token.last_used_at is not None


def test_a_revoked_unknown_or_other_doctors_link_is_a_404(client, hospital_a, hospital_b):
    assert _feed(client, hospital_a, secret="made-up").status_code == 404
    assert _feed(client, hospital_a, secret="").status_code == 404
    assert _feed(client, hospital_a, secret=hospital_b["secret"]).status_code == 404

    calendar_token_revoke(token=hospital_a["token"], by=hospital_a["admin"])

    assert _feed(client, hospital_a).status_code == 404
    assert (
        AuditEvent.objects.filter(action="calendar_token.revoke").get().target
        == (hospital_a["doctor"])
    )


def test_issuing_a_new_link_revokes_the_old_one_and_only_the_hash_is_stored(hospital_a):
    old = hospital_a["token"]

    token, secret = calendar_token_issue(
        owner=hospital_a["admin"],
        purpose=CalendarToken.Purpose.DOCTOR_SESSIONS,
        doctor=hospital_a["doctor"],
        by=hospital_a["admin"],
    )

    old.refresh_from_db()
    assert old.revoked_at is not None
    assert secret not in token.token_hash
    assert token.token_hash == CalendarToken.hash_secret(secret)


def test_a_link_stops_working_when_its_issuer_no_longer_manages_the_hospital(client, hospital_a):
    StaffMembership.objects.filter(user=hospital_a["admin"]).delete()

    assert _feed(client, hospital_a).status_code == 404


def test_the_console_issues_a_link_once_and_revokes_it(client, hospital_a):
    client.force_login(hospital_a["admin"])
    url = reverse(
        "console_calendar_links",
        kwargs={"hospital_slug": hospital_a["hospital"].slug, "doctor_id": hospital_a["doctor"].pk},
    )

    issued = client.post(url, {"action": "issue"})
    link = issued.context["new_link"]
    assert "/manage/doctors/" in link and "token=" in link
    assert client.get(link).status_code == 200
    assert client.get(url).context["new_link"] is None

    live = CalendarToken.objects.get(doctor=hospital_a["doctor"], revoked_at__isnull=True)
    client.post(url, {"action": "revoke", "token": live.pk})
    assert client.get(link).status_code == 404


@pytest.mark.parametrize("token", ["abc", "-1", "²", "9" * 10_240, "x" * 10_240])
def test_a_malformed_sessions_link_id_is_refused_with_the_page_again(client, hospital_a, token):
    client.force_login(hospital_a["admin"])
    url = reverse(
        "console_calendar_links",
        kwargs={"hospital_slug": hospital_a["hospital"].slug, "doctor_id": hospital_a["doctor"].pk},
    )

    response = client.post(url, {"action": "revoke", "token": token})

    assert response.status_code == 400
    assert "Choose a feed link from the list to revoke." in response.content.decode()
    assert _feed(client, hospital_a).status_code == 200
