"""Calendar files: one appointment as an RFC 5545/5546 invitation, and the personal feed of
every linked person's appointments behind a revocable link. No reason or ID in either."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.test import override_settings
from django.utils import timezone, translation
from icalendar import Calendar

from appointments.models import CalendarToken
from appointments.services import calendar_token_issue, calendar_token_revoke
from tests.factories import AppointmentFactory, HospitalFactory, PatientLinkFactory, UserFactory

# The booking below is on 3 December 2026: the clock starts the day before, so the feed, which
# keeps a month of the past, still lists it in January.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clinic_hours_ticking")]

REASON = "反复皮疹三周，怀疑湿疹"


@pytest.fixture
def booked(alice):
    patient = PatientLinkFactory(account=alice, patient__name="王小明").patient
    hospital = HospitalFactory(
        name_en="First Hospital", address_en="1 Zhongshan Road", timezone="Asia/Shanghai"
    )
    start = dt.datetime(2026, 12, 3, 14, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    return AppointmentFactory(
        code="K7M2Q9",
        patient=patient,
        booked_by=alice,
        visit_reason=REASON,
        sequence=2,
        slot__doctor__name_en="Zhou Ruoxi",
        slot__doctor__department__hospital=hospital,
        slot__start=start,
    )


def download(client, user, code: str) -> tuple[Calendar, str]:
    client.force_login(user)
    client.cookies["django_language"] = "en"
    response = client.get(f"/appointments/{code}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    return Calendar.from_ical(text), text


@override_settings(SITE_DOMAIN="hospital.example.cn")
def test_an_appointment_downloads_as_an_invitation_in_the_hospitals_zone(client, alice, booked):
    calendar, _text = download(client, alice, booked.code)

    assert calendar["METHOD"] == "REQUEST"
    event = calendar.walk("VEVENT")[0]
    assert str(event["UID"]) == "appointment-K7M2Q9@hospital.example.cn"
    assert event["SEQUENCE"] == 2
    assert event["STATUS"] == "CONFIRMED"
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert event.decoded("DTSTART") == booked.slot.start
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert "Zhou Ruoxi" in event["SUMMARY"] and "First Hospital" in event["SUMMARY"]
    assert event["LOCATION"] == "1 Zhongshan Road"
    assert str(event["ORGANIZER"]).startswith("mailto:")
    alarm = event.walk("VALARM")[0]
    assert alarm["ACTION"] == "DISPLAY"
    assert alarm.decoded("TRIGGER") == -dt.timedelta(hours=1)


def test_no_reason_name_or_id_number_leaks_into_the_file(client, alice, booked):
    _calendar, text = download(client, alice, booked.code)
    unfolded = re.sub(r"\r?\n[ \t]", "", text)

    for secret in (REASON, "皮疹", booked.patient.id_number, booked.patient.id_number_masked):
        assert secret not in unfolded


def test_long_lines_are_folded_as_icalendar_folds_them(client, alice, booked):
    """Short lines are written as they are and long ones folded by icalendar: the file reads
    back and writes out the same, and no line passes RFC 5545's 75 octets."""
    site = booked.slot.site
    site.address_en = "Building 7, " + "Outpatient Hall, " * 8 + "Ningbo"
    site.save()

    _calendar, text = download(client, alice, booked.code)

    assert text.endswith("\r\n") and "\r\n\r\n" not in text
    lines = text.split("\r\n")
    assert max(len(line.encode()) for line in lines) <= 75
    assert any(line.startswith(" ") for line in lines)  # the address was folded
    assert Calendar.from_ical(text).to_ical().decode() == text


def test_a_cancelled_appointment_downloads_as_a_cancellation(client, alice, booked):
    booked.status = "cancelled"
    booked.cancel_reason = "patient"
    booked.sequence = 3
    booked.save()

    calendar, _text = download(client, alice, booked.code)

    assert calendar["METHOD"] == "CANCEL"
    event = calendar.walk("VEVENT")[0]
    assert event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == 3
    assert str(event["UID"]).startswith("appointment-K7M2Q9@")


def test_an_online_appointment_links_its_page_instead_of_an_address(client, alice, booked):
    booked.slot.mode = "online"
    booked.slot.save()

    calendar, _text = download(client, alice, booked.code)

    assert calendar.walk("VEVENT")[0]["LOCATION"].endswith("/appointments/K7M2Q9/")


def test_the_personal_feed_lists_every_linked_persons_appointments(client, alice, booked):
    mother = PatientLinkFactory(account=alice, relationship="parent").patient
    hers = AppointmentFactory(patient=mother, slot__start=timezone.now() + dt.timedelta(days=4))
    strangers = AppointmentFactory()
    _token, secret = calendar_token_issue(
        owner=alice, purpose=CalendarToken.Purpose.PERSONAL, by=alice
    )

    response = client.get(f"/calendar/{secret}.ics")

    assert response.status_code == 200
    calendar = Calendar.from_ical(response.content)
    uids = {str(event["UID"]).split("@")[0] for event in calendar.walk("VEVENT")}
    assert uids == {f"appointment-{booked.code}", f"appointment-{hers.code}"}
    assert f"appointment-{strangers.code}" not in uids
    assert "METHOD" not in calendar
    assert REASON not in re.sub(r"\r?\n[ \t]", "", response.content.decode())


def test_a_revoked_or_unknown_feed_link_is_404(client, alice, booked):
    token, secret = calendar_token_issue(
        owner=alice, purpose=CalendarToken.Purpose.PERSONAL, by=alice
    )
    assert client.get(f"/calendar/{secret}.ics").status_code == 200

    calendar_token_revoke(token=token, by=alice)

    assert client.get(f"/calendar/{secret}.ics").status_code == 404
    assert client.get("/calendar/not-a-token.ics").status_code == 404


def test_a_doctor_sessions_token_does_not_open_a_personal_feed(client, alice, booked):
    _token, secret = calendar_token_issue(
        owner=alice,
        purpose=CalendarToken.Purpose.DOCTOR_SESSIONS,
        doctor=booked.slot.doctor,
        by=alice,
    )
    assert client.get(f"/calendar/{secret}.ics").status_code == 404


def test_the_calendar_page_issues_a_link_once_and_revokes_it(client, alice, booked):
    client.force_login(alice)
    client.cookies["django_language"] = "en"

    page = client.post("/appointments/calendar/", {"action": "issue"}).content.decode()
    link = re.search(r'value="(http://testserver/calendar/[^"]+\.ics)"', page).group(1)
    assert client.get(link).status_code == 200
    assert link not in client.get("/appointments/calendar/").content.decode()

    token = CalendarToken.objects.get(owner=alice, revoked_at__isnull=True)
    client.post("/appointments/calendar/", {"action": "revoke", "token": token.pk})

    assert client.get(link).status_code == 404


def test_one_account_cannot_revoke_anothers_feed(client, alice):
    token, secret = calendar_token_issue(
        owner=alice, purpose=CalendarToken.Purpose.PERSONAL, by=alice
    )
    client.force_login(UserFactory())

    response = client.post("/appointments/calendar/", {"action": "revoke", "token": token.pk})

    assert response.status_code == 404
    assert client.get(f"/calendar/{secret}.ics").status_code == 200


@pytest.mark.parametrize("token", ["abc", "-1", "1.5", "²", "9" * 10_240, "x" * 10_240])
def test_a_malformed_feed_link_id_is_refused_with_the_page_again(client, alice, token):
    live, secret = calendar_token_issue(
        owner=alice, purpose=CalendarToken.Purpose.PERSONAL, by=alice
    )
    client.force_login(alice)

    response = client.post("/appointments/calendar/", {"action": "revoke", "token": token})

    assert response.status_code == 400
    assert "Choose a feed link from the list to revoke." in response.content.decode()
    live.refresh_from_db()
    assert live.revoked_at is None
    assert client.get(f"/calendar/{secret}.ics").status_code == 200


def test_the_malformed_feed_link_message_is_translated(client, alice):
    client.force_login(alice)
    client.cookies["django_language"] = "zh-hans"

    # (override: the request leaves its language active, and later tests read English)
    with translation.override("zh-hans"):
        response = client.post("/appointments/calendar/", {"action": "revoke", "token": "abc"})

    assert response.status_code == 400
    assert "请从列表中选择要撤销的订阅链接。" in response.content.decode()
