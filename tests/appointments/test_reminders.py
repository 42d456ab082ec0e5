"""Reminders 24 h and 2 h before each appointment: written once, only the latest when several
are due, none once it has started, in the language it was booked in, with the .ics."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.utils import translation

from appointments.services import (
    appointment_book,
    appointment_cancel,
    reminders_send_due,
    reminders_send_due_batch,
)
from appointments.tasks import send_due_reminders
from notifications.models import Notification, OutboxMessage
from notifications.services import outbox_deliver_due
from tests.appointments.conftest import open_slot, person

pytestmark = pytest.mark.django_db

SECOND = dt.timedelta(seconds=1)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def booked():
    patient, account = person()
    appointment = appointment_book(patient=patient, slot=open_slot(), booked_by=account)
    OutboxMessage.objects.filter(kind__startswith="appointment.").delete()
    return appointment


def reminders():
    return sorted(
        OutboxMessage.objects.filter(kind__startswith="reminder.").values_list("kind", "channel")
    )


def test_the_24_hour_reminder_is_written_when_due_and_only_once(booked):
    start = booked.slot.start

    assert reminders_send_due(now=start - 24 * HOUR - SECOND) == 0
    assert reminders_send_due(now=start - 24 * HOUR + SECOND) == 1
    assert reminders_send_due(now=start - 24 * HOUR + SECOND) == 0  # run twice: same result
    assert reminders_send_due(now=start - 3 * HOUR) == 0
    assert reminders() == [
        ("reminder.24h", "email"),
        ("reminder.24h", "inapp"),
        ("reminder.24h", "sms"),
    ]

    assert reminders_send_due(now=start - 2 * HOUR + SECOND) == 1
    assert reminders_send_due(now=start - 2 * HOUR + SECOND) == 0
    assert [kind for kind, channel in reminders() if channel == "email"] == [
        "reminder.24h",
        "reminder.2h",
    ]


def test_when_several_are_due_at_once_only_the_latest_is_sent(booked):
    # A late booking, or a worker that was down all day: an hour before, only the 2 h reminder.
    assert reminders_send_due(now=booked.slot.start - HOUR) == 1
    assert reminders() == [
        ("reminder.2h", "email"),
        ("reminder.2h", "inapp"),
        ("reminder.2h", "sms"),
    ]
    assert reminders_send_due(now=booked.slot.start - HOUR) == 0


def test_no_reminder_once_the_appointment_has_started_or_was_cancelled(booked):
    assert reminders_send_due(now=booked.slot.start + SECOND) == 0

    appointment_cancel(appointment=booked, by=booked.booked_by, reason="patient")
    assert reminders_send_due(now=booked.slot.start - HOUR) == 0
    assert reminders() == []


def test_a_reminder_still_unsent_when_the_visit_begins_is_skipped(booked):
    reminders_send_due(now=booked.slot.start - HOUR)

    assert outbox_deliver_due(now=booked.slot.start + SECOND) == 0
    assert mail.outbox == [] and not Notification.objects.exists()
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"skipped"}


def test_the_reminder_speaks_the_booking_language_and_carries_the_calendar_file():
    patient, account = person()
    with translation.override("zh-hans"):
        appointment = appointment_book(patient=patient, slot=open_slot(), booked_by=account)
    outbox_deliver_due()
    mail.outbox = []

    reminders_send_due(now=appointment.slot.start - 2 * HOUR)
    outbox_deliver_due(now=appointment.slot.start - 2 * HOUR)

    [message] = mail.outbox
    assert message.subject.startswith("就诊提醒") and appointment.code in message.body
    assert appointment.patient.id_number not in message.body
    [(name, _content, mimetype)] = message.attachments
    assert name == f"{appointment.code}.ics" and mimetype.startswith("text/calendar")
    assert Notification.objects.filter(account=account, title=message.subject).exists()


@override_settings(REMINDER_OFFSETS_HOURS=[48])
def test_the_offsets_are_configurable(booked):
    assert reminders_send_due(now=booked.slot.start - 47 * HOUR) == 1
    assert reminders() == [
        ("reminder.48h", "email"),
        ("reminder.48h", "inapp"),
        ("reminder.48h", "sms"),
    ]


def test_the_beat_task_claims_in_batches_and_is_safe_to_repeat():
    slot = open_slot(capacity=5)
    for _index in range(5):
        patient, account = person()
        appointment_book(patient=patient, slot=slot, booked_by=account)

    with time_machine.travel(slot.start - 20 * HOUR, tick=False):
        assert send_due_reminders.apply(kwargs={"batch": 2}).get() == 5
        assert send_due_reminders.apply(kwargs={"batch": 2}).get() == 0

    assert OutboxMessage.objects.filter(kind="reminder.24h").count() == 15  # e-mail, SMS, inbox


def _book_many(slot, n: int) -> None:
    for _index in range(n):
        patient, account = person()
        appointment_book(patient=patient, slot=slot, booked_by=account)
    OutboxMessage.objects.all().delete()


def test_a_batch_of_reminders_costs_the_same_queries_however_many_it_holds(
    django_assert_num_queries,
):
    # bench/reminders.py: 100,000 reminders; a few queries per reminder made that hours.
    few, many = open_slot(capacity=2), open_slot(capacity=6, mode="online")
    _book_many(few, 2)
    _book_many(many, 6)
    now = few.start - 20 * HOUR

    # savepoint, claim (by id, then read in full), the booking languages, the outbox look-up
    # and INSERT, one UPDATE
    with django_assert_num_queries(8):
        assert reminders_send_due_batch(now=now, batch=2) == 2
    with django_assert_num_queries(8):
        assert reminders_send_due_batch(now=now, batch=6) == 6  # and the online consults' rooms

    # the lease in its savepoint (claim by id, read, lease UPDATE), the inbox INSERT in its
    # savepoint, one UPDATE
    with django_assert_num_queries(9):
        assert outbox_deliver_due(now=now, batch=6) == 6
    with django_assert_num_queries(9):
        assert outbox_deliver_due(now=now, batch=18) == 18  # e-mail, SMS and inbox of each
    assert Notification.objects.count() == 8 and len(mail.outbox) == 8
