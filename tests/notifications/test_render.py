"""The one renderer (notifications.render): real reminder times in both languages, every kind's
SMS within one text message (or split deliberately), one SMS row for a verified number and none
for an unverified one, the stop-clinic reason everywhere, the inbox in the reader's language,
and the /a/<code> short link."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.utils import translation

from appointments.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    closure_create,
    reminders_send_due,
    waitlist_join,
)
from notifications import sms
from notifications.models import Notification, OutboxMessage
from notifications.render import (
    format_relative,
    message_render,
    sms_limit,
    sms_split,
)
from notifications.selectors import inbox_page
from notifications.services import outbox_deliver_due
from tests.appointments.conftest import later_slot, open_slot, person
from tests.conftest import with_totp
from tests.factories import StaffMembershipFactory, UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int, day: int = 2) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("now", "start", "language", "text"),
    [
        (at(7, 45), at(10, 0), "zh-hans", "今天 10:00，还有 2 小时 15 分"),
        (at(7, 45), at(10, 0), "en", "today 10:00, in 2 h 15 min"),
        (at(9, 50), at(10, 0), "en", "today 10:00, in 10 min"),
        (at(20, 0), at(9, 30, day=3), "zh-hans", "明天 09:30"),
        (at(20, 0), at(9, 30, day=3), "en", "tomorrow 09:30"),
        (at(20, 0), at(14, 0, day=9), "zh-hans", "12月9日 周三 14:00"),
        (at(20, 0), at(14, 0, day=9), "en", "Wed 9 Dec, 14:00"),
    ],
)
def test_a_reminder_says_the_real_time(now, start, language, text):
    assert format_relative(start, language=language, now=now) == text


def test_a_long_text_is_split_into_numbered_parts_that_each_fit_one_sms():
    text = "停诊通知：" + "医院说明的原因很长，" * 12 + "改约：https://example.org/a/ABCD2345"
    parts = sms_split(text)
    assert len(parts) > 1 and all(len(part) <= 70 for part in parts)
    assert parts[0].startswith("(1/") and "https://example.org/a/ABCD2345" in parts[-1]
    assert sms_split("short") == ["short"]


pytestmark = pytest.mark.django_db


def _sms_rows(account):
    return list(OutboxMessage.objects.filter(account=account, channel="sms"))


def _every_kind(account, patient, other_patient, other_account):
    """Booking, move, cancel, reminder, stop-clinic and waitlist promotion for `account`."""
    slot = open_slot(capacity=1)
    first = appointment_book(patient=patient, slot=slot, booked_by=account)
    moved = appointment_reschedule(appointment=first, new_slot=later_slot(slot), by=account)
    appointment_cancel(appointment=moved, by=account, reason="patient")
    reminded = appointment_book(patient=patient, slot=later_slot(slot, hours=3), booked_by=account)
    reminders_send_due(now=reminded.slot.start - dt.timedelta(hours=2))
    full = open_slot(capacity=1)
    taken = appointment_book(patient=other_patient, slot=full, booked_by=other_account)
    waitlist_join(patient=patient, slot=full, account=account)
    appointment_cancel(appointment=taken, by=other_account, reason="patient")
    from appointments.services.booking import waitlist_promote

    waitlist_promote(slot=full)
    admin = with_totp(StaffMembershipFactory(hospital=reminded.slot.site).user)
    closure_create(
        scope="doctor",
        doctor=reminded.slot.doctor,
        starts_at=reminded.slot.start - dt.timedelta(minutes=1),
        ends_at=reminded.slot.end + dt.timedelta(minutes=1),
        reason="院内培训",
        by=admin,
    )


def test_each_message_writes_one_sms_row_for_a_verified_number_and_none_otherwise():
    patient, account = person()
    other_patient, other_account = person()
    unverified_patient, unverified = person(UserFactory(phone_verified=False))
    _every_kind(account, patient, other_patient, other_account)
    _every_kind(unverified, unverified_patient, *person())

    kinds = sorted(row.kind for row in _sms_rows(account))
    assert kinds == sorted(
        [
            "appointment.booked",  # the first booking
            "appointment.moved",
            "appointment.cancelled",
            "appointment.booked",  # the one reminded of
            "reminder.2h",
            "appointment.promoted",  # a place became free on the waiting list
            "appointment.closed",
        ]
    )
    assert len({(row.kind, row.subject_id) for row in _sms_rows(account)}) == len(kinds)
    assert _sms_rows(unverified) == []
    assert not OutboxMessage.objects.filter(channel="sms", address="").exists()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "site_url",
    # The development server, and a production domain of 24 characters (docs/operations.md).
    ["http://127.0.0.1:8000", "https://www.nbhealth.com"],
)
def test_every_kind_of_text_fits_one_sms_of_70_characters(language, site_url):
    """Mainland providers count every character as one, Latin letters too: an English text
    keeps to 70 as a Chinese one does. Only a stop-clinic notice, whose reason the admin typed,
    may be split (deliberately, never inside its link)."""
    patient, account = person()
    with translation.override(language):
        _every_kind(account, patient, *person())
    rows = _sms_rows(account)
    assert {row.language for row in rows} == {language}
    assert "reminder.2h" in {row.kind for row in rows}
    assert "appointment.promoted" in {row.kind for row in rows}
    for row in rows:
        with override_settings(SITE_URL=site_url):
            rendered = message_render(kind=row.kind, params=row.params, language=language)
        link = f"{site_url}/a/{row.params['code']}"
        assert all(len(part) <= 70 for part in rendered.sms), rendered.sms
        assert any(link in part.split() for part in rendered.sms), rendered.sms
        if row.kind != "appointment.closed":
            assert len(rendered.sms) == 1, (row.kind, rendered.sms)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_waitlist_promotion_says_a_place_became_free_not_booked(language):
    patient, account = person()
    with translation.override(language):
        _every_kind(account, patient, *person())
    promoted = OutboxMessage.objects.get(
        account=account, kind="appointment.promoted", channel="sms"
    )
    text = message_render(kind=promoted.kind, params=promoted.params, language=language).sms[0]
    assert text.startswith(
        ("A place became free", "Got a place") if language == "en" else "候补成功"
    )
    assert not text.startswith(("Booked", "预约成功"))
    title = message_render(kind=promoted.kind, params=promoted.params, language=language).title
    assert ("you are booked" in title) if language == "en" else ("已为您预约" in title)


def test_a_split_never_cuts_a_link_and_the_signature_counts():
    text = "停诊通知：" + "原因" * 20 + "。改约：https://www.nbhealth.example.cn/a/ABCD2345 谢谢"
    parts = sms_split(text)
    assert any("https://www.nbhealth.example.cn/a/ABCD2345" in part for part in parts), parts
    assert all(len(part) <= 70 for part in parts)
    assert sms_limit() == 70
    with override_settings(SMS_SIGNATURE="云医院"):  # 【云医院】 takes 5 of the 70
        assert sms_limit() == 65
        assert all(len(part) <= 65 for part in sms_split(text))


def test_a_stop_clinic_notice_carries_the_reason_everywhere_and_always_goes_by_sms():
    slot = open_slot()
    patient, account = person()
    account.message_by_sms = account.message_by_email = False
    account.save()
    with translation.override("zh-hans"):
        appointment_book(patient=patient, slot=slot, booked_by=account)
    assert not OutboxMessage.objects.filter(channel__in=("sms", "email")).exists()  # chosen
    admin = with_totp(StaffMembershipFactory(hospital=slot.site).user)
    with translation.override("zh-hans"):
        closure_create(
            scope="doctor",
            doctor=slot.doctor,
            starts_at=slot.start - dt.timedelta(minutes=1),
            ends_at=slot.end + dt.timedelta(minutes=1),
            reason="医生外出会诊",
            by=admin,
        )
    sms.outbox.clear()
    outbox_deliver_due()

    text = "".join(m.text for m in sms.outbox)  # a long notice goes as numbered parts
    assert "停诊" in text and "医生外出会诊" in text and "/a/" in text
    note = Notification.objects.get(account=account, kind="appointment.closed")
    assert "医生外出会诊" in note.body
    assert mail.outbox == []  # e-mail was turned off; the text message was not


def test_reminders_tell_the_real_time_and_skip_a_window_passed_at_booking():
    slot = open_slot(start=at(10, 0, day=20), end=at(10, 30, day=20))
    patient, account = person()
    with time_machine.travel(at(7, 43, day=20), tick=False), translation.override("zh-hans"):
        appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    with time_machine.travel(at(7, 45, day=20), tick=False):
        assert reminders_send_due() == 0  # the 24 h one had passed when it was booked
    with time_machine.travel(at(8, 0, day=20), tick=False):
        assert reminders_send_due() == 1
    with time_machine.travel(at(7, 45, day=20) + dt.timedelta(minutes=15), tick=False):
        sms.outbox.clear()
        outbox_deliver_due()
    [text] = [m for m in sms.outbox if "提醒" in m.text]
    assert "今天 10:00，还有 2 小时 0 分" in text.text and appointment.code in text.text

    late = open_slot(start=at(8, 15, day=21), end=at(8, 45, day=21))
    with time_machine.travel(at(7, 45, day=21), tick=False):
        appointment_book(patient=patient, slot=late, booked_by=account)
    with time_machine.travel(at(8, 0, day=21), tick=False):
        assert reminders_send_due() == 0  # both windows had passed at booking


def test_the_inbox_renders_in_the_readers_language():
    patient, account = person()
    with translation.override("zh-hans"):
        appointment_book(patient=patient, slot=open_slot(), booked_by=account)
    outbox_deliver_due()
    with translation.override("en"):
        [note] = inbox_page(account=account).object_list
        assert note.title.startswith("Appointment booked")
    with translation.override("zh-hans"):
        [note] = inbox_page(account=account).object_list
        assert note.title.startswith("预约成功")


def test_the_short_link_opens_the_appointment_for_its_people_only(client):
    patient, account = person()
    appointment = appointment_book(patient=patient, slot=open_slot(), booked_by=account)
    stranger = UserFactory()

    assert client.get(f"/a/{appointment.code}").status_code == 302  # sign in first
    client.force_login(stranger)
    assert client.get(f"/a/{appointment.code}").status_code == 404
    client.force_login(account)
    response = client.get(f"/a/{appointment.code}")
    assert response.status_code == 302
    assert response["Location"] == f"/appointments/{appointment.code}/"


def test_a_person_chooses_channels_on_the_messages_page(client):
    patient, account = person()
    client.force_login(account)
    page = client.get("/me/notifications/")
    assert b'name="by_sms"' in page.content and b'name="by_email"' in page.content

    response = client.post("/me/notifications/channels/", {"by_email": "on"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.message_by_email, account.message_by_sms) == (True, False)
    appointment_book(patient=patient, slot=open_slot(), booked_by=account)
    assert sorted(OutboxMessage.objects.values_list("channel", flat=True)) == ["email", "inapp"]
