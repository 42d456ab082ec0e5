"""The booking services tell people through the outbox: in the booking's transaction, in the
booker's language, never blocked by the broker; the waiting list and closures use the same path."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils import translation

from appointments.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    closure_create,
    waitlist_join,
)
from notifications.models import Notification, OutboxMessage
from notifications.services import outbox_deliver_due
from notifications.tasks import deliver_outbox
from tests.appointments.conftest import later_slot, open_slot, person
from tests.conftest import with_totp
from tests.factories import StaffMembershipFactory

pytestmark = pytest.mark.django_db


def test_a_rolled_back_booking_writes_and_sends_nothing():
    slot = open_slot()
    patient, account = person()

    with pytest.raises(RuntimeError), transaction.atomic():
        appointment_book(patient=patient, slot=slot, booked_by=account)
        # e-mail, SMS (a verified number) and inbox, inside the booking's transaction
        assert OutboxMessage.objects.count() == 3
        raise RuntimeError("payment step failed")

    assert not OutboxMessage.objects.exists()
    assert outbox_deliver_due() == 0 and mail.outbox == []
    assert not Notification.objects.exists()


def test_a_booking_succeeds_while_the_broker_is_down_and_is_delivered_later(
    django_capture_on_commit_callbacks, caplog
):
    slot = open_slot()
    patient, account = person()
    conf = deliver_outbox.app.conf
    healthy = conf.broker_url
    conf.broker_url = "redis://127.0.0.1:9/0"  # nothing listens there: the broker is down
    try:
        with (
            override_settings(OUTBOX_DRAIN_ON_COMMIT=True),
            django_capture_on_commit_callbacks(execute=True) as callbacks,
        ):
            appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    finally:
        conf.broker_url = healthy

    assert callbacks  # the drain was asked for, and its failure did not reach the booking
    assert "the beat will deliver" in caplog.text
    assert appointment.status == "booked"
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"pending"}
    assert outbox_deliver_due() == 3
    [message] = mail.outbox
    assert appointment.code in message.body


def test_booking_moving_and_cancelling_each_write_their_own_messages():
    slot = open_slot()
    patient, account = person()

    with translation.override("en"):
        appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
        assert list(OutboxMessage.objects.values_list("kind", "channel")) == [
            ("appointment.booked", "email"),
            ("appointment.booked", "sms"),
            ("appointment.booked", "inapp"),
        ]
        moved = appointment_reschedule(
            appointment=appointment, new_slot=later_slot(slot), by=account
        )
        appointment_cancel(appointment=moved, by=account, reason="patient")
    outbox_deliver_due()

    # The move is one message (the old time is cancelled inside it), then the cancellation.
    assert [message.subject.split(":")[0] for message in mail.outbox] == [
        "Appointment booked",
        "Appointment moved",
        "Appointment cancelled",
    ]


def test_a_booking_in_chinese_is_written_in_chinese_with_the_calendar_file():
    slot = open_slot()
    patient, account = person()

    with translation.override("zh-hans"):
        appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    outbox_deliver_due()

    [message] = mail.outbox
    assert message.subject.startswith("预约成功") and "预约码" in message.body
    assert any(name == f"{appointment.code}.ics" for name, _c, _m in message.attachments)
    [note] = Notification.objects.filter(account=account)
    assert note.title == message.subject and note.link == f"/appointments/{appointment.code}/"


def test_the_patient_promoted_from_the_waiting_list_is_told(django_capture_on_commit_callbacks):
    slot = open_slot(capacity=1)
    owner_patient, owner = person()
    appointment = appointment_book(patient=owner_patient, slot=slot, booked_by=owner)
    waiting_patient, waiting_account = person()
    waitlist_join(patient=waiting_patient, slot=slot, account=waiting_account)
    outbox_deliver_due()
    mail.outbox = []

    with django_capture_on_commit_callbacks(execute=True):  # the promotion runs on commit
        appointment_cancel(appointment=appointment, by=owner, reason="patient")
    outbox_deliver_due()

    to = {tuple(message.to): message.subject for message in mail.outbox}
    assert to[(owner.email,)].startswith("Appointment cancelled")
    assert to[(waiting_account.email,)].startswith("A place became free: you are booked")


def test_each_patient_of_a_stopped_clinic_is_told_why():
    slot = open_slot(capacity=3)
    people = [person() for _index in range(2)]
    for patient, account in people:
        appointment_book(patient=patient, slot=slot, booked_by=account)
    outbox_deliver_due()
    mail.outbox = []
    admin = with_totp(StaffMembershipFactory(hospital=slot.site).user)

    closure_create(
        scope="doctor",
        doctor=slot.doctor,
        starts_at=slot.start - dt.timedelta(hours=1),
        ends_at=slot.end + dt.timedelta(hours=1),
        reason="Conference",
        by=admin,
    )
    outbox_deliver_due()

    assert sorted(m.to[0] for m in mail.outbox) == sorted(a.email for _p, a in people)
    assert all(m.subject.startswith("Clinic stopped") for m in mail.outbox)
    # The reason the admin typed reaches every patient (issue 19 item 9).
    assert all("Conference" in m.body for m in mail.outbox)


def test_booking_messages_are_written_once_however_often_they_are_asked_for():
    from appointments.services.messages import messages_for_booking

    slot = open_slot()
    patient, account = person()
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    messages_for_booking(appointment=appointment)

    assert OutboxMessage.objects.count() == 3
    outbox_deliver_due()
    assert len(mail.outbox) == 1
