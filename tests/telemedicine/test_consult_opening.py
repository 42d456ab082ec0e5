""" "Your consult room is open": one SMS (a verified number only) and one inbox entry to the
account told of the appointment, exactly once, when the room opens and before the consult
starts; the text fits one SMS in both languages and carries the short link /a/<code>."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import override_settings

from appointments.services import appointment_book, appointment_cancel
from notifications import sms
from notifications.models import Notification, OutboxMessage
from notifications.render import message_render
from notifications.services import outbox_deliver_due
from telemedicine.opening import KIND_OPENING, consults_tell_opening
from tests.appointments.conftest import open_slot, person
from tests.factories import UserFactory
from tests.telemedicine.conftest import online_booking

pytestmark = pytest.mark.django_db


def _opening_rows(appointment):
    return OutboxMessage.objects.filter(kind=KIND_OPENING, subject_id=str(appointment.pk))


def _opened(appointment, minutes: int = 1) -> dt.datetime:
    return appointment.consultation.opens_at + dt.timedelta(minutes=minutes)


def test_the_room_opening_is_told_once_by_sms_and_inbox_with_the_short_link():
    appointment, account, _doctor = online_booking()
    with override_settings(SMS_BACKEND="notifications.sms.LocmemBackend"):
        outbox_deliver_due(batch=50)  # the confirmation
    before = appointment.consultation.opens_at - dt.timedelta(minutes=1)
    assert consults_tell_opening(now=before) == 0
    assert not _opening_rows(appointment).exists()

    assert consults_tell_opening(now=_opened(appointment)) == 1
    assert consults_tell_opening(now=_opened(appointment, 2)) == 0  # told already
    rows = _opening_rows(appointment)
    assert sorted(rows.values_list("channel", flat=True)) == ["inapp", "sms"]
    assert {row.account_id for row in rows} == {account.pk}
    assert rows.get(channel="sms").address == account.phone

    sms.outbox.clear()
    with override_settings(SMS_BACKEND="notifications.sms.LocmemBackend"):
        outbox_deliver_due(batch=50, now=_opened(appointment, 2))
    texts = [text for text in sms.outbox if text.phone == account.phone]
    assert len(texts) == 1
    assert f"/a/{appointment.code}" in texts[0].text and len(texts[0].text) <= 70
    entry = Notification.objects.get(account=account, kind=KIND_OPENING)
    assert entry.link.endswith(f"/{appointment.code}/") or appointment.code in entry.link


def test_an_unverified_number_gets_the_inbox_entry_only():
    patient, account = person(UserFactory(phone_verified=False))
    appointment = appointment_book(
        patient=patient, slot=open_slot(mode="online"), booked_by=account
    )
    consults_tell_opening(now=_opened(appointment))
    assert list(_opening_rows(appointment).values_list("channel", flat=True)) == ["inapp"]


def test_nobody_is_told_of_a_cancelled_consult_or_one_that_has_started():
    cancelled, account, _doctor = online_booking()
    appointment_cancel(appointment=cancelled, by=account, reason="patient")
    assert consults_tell_opening(now=_opened(cancelled)) == 0
    started, _account, _doctor = online_booking()
    assert consults_tell_opening(now=started.slot.start + dt.timedelta(minutes=1)) == 0
    assert not OutboxMessage.objects.filter(kind=KIND_OPENING).exists()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("site_url", ["http://127.0.0.1:8000", "https://www.nbhealth.example.cn"])
def test_the_opening_text_fits_one_sms_in_both_languages(language, site_url):
    appointment, _account, _doctor = online_booking()
    consults_tell_opening(now=_opened(appointment))
    row = _opening_rows(appointment).get(channel="sms")
    with override_settings(SITE_URL=site_url):
        rendered = message_render(
            kind=row.kind, params=row.params, language=language, now=_opened(appointment)
        )
    assert len(rendered.sms) == 1 and len(rendered.sms[0]) <= 70, rendered.sms
    assert f"{site_url}/a/{appointment.code}" in rendered.sms[0]


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_tell_each_room_exactly_once():
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED needs PostgreSQL")
    bookings = [online_booking()[0] for _ in range(6)]
    now = max(_opened(appointment) for appointment in bookings)
    now = min(now, min(a.slot.start for a in bookings) - dt.timedelta(seconds=1))
    claimed = []

    def worker():
        try:
            claimed.append(consults_tell_opening(now=now, batch=2))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(claimed) == 6
    rows = OutboxMessage.objects.filter(kind=KIND_OPENING)
    assert rows.filter(channel="sms").count() == 6 and rows.filter(channel="inapp").count() == 6
