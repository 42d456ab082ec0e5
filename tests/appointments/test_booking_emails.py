"""Booking e-mails: written to the outbox in the booking's transaction and sent by the worker
(here: outbox_deliver_due), with the .ics attached; never the reason or the full ID number; a
cancellation carries METHOD:CANCEL."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.utils import translation
from icalendar import Calendar

from appointments.services.messages import messages_for_booking, messages_for_cancellation
from notifications.services import outbox_deliver_due
from tests.factories import AppointmentFactory, PatientLinkFactory

pytestmark = pytest.mark.django_db(transaction=True)

REASON = "反复皮疹三周"


@pytest.fixture
def appointment(alice):
    patient = PatientLinkFactory(account=alice, patient__name="王小明").patient
    return AppointmentFactory(
        code="K7M2Q9",
        patient=patient,
        booked_by=alice,
        visit_reason=REASON,
        slot__doctor__name_en="Zhou Ruoxi",
    )


def attachment(message, method: str) -> Calendar:
    for _name, content, mimetype in message.attachments:
        if mimetype.startswith("text/calendar") and f"method={method}" in mimetype:
            return Calendar.from_ical(content)
    raise AssertionError(f"no {method} calendar attached to {message.subject!r}")


def test_a_booking_sends_a_confirmation_with_the_invitation_once_delivered(appointment, alice):
    # The e-mail speaks the language of the request that booked.
    with translation.override("en"), transaction.atomic():
        messages_for_booking(appointment=appointment)
    assert mail.outbox == []  # in the outbox until a worker delivers it

    assert outbox_deliver_due() == 3  # the e-mail, the text message and the inbox entry
    [message] = mail.outbox
    assert message.to == [alice.email]
    assert "Zhou Ruoxi" in message.subject and REASON not in message.subject
    assert "K7M2Q9" in message.body
    assert appointment.patient.id_number_masked in message.body
    assert appointment.patient.id_number not in message.body
    assert REASON not in message.body
    invite = attachment(message, "REQUEST")
    assert invite["METHOD"] == "REQUEST"
    assert str(invite.walk("VEVENT")[0]["UID"]).startswith("appointment-K7M2Q9@")


def test_a_rolled_back_booking_sends_nothing(appointment, alice):
    with pytest.raises(RuntimeError), transaction.atomic():
        messages_for_booking(appointment=appointment)
        raise RuntimeError("booking failed")

    assert outbox_deliver_due() == 0
    assert mail.outbox == []


def test_a_cancellation_sends_a_cancel_for_the_same_uid(appointment, alice):
    appointment.status = "cancelled"
    appointment.cancel_reason = "patient"
    appointment.sequence = 1
    appointment.save()

    with transaction.atomic():
        messages_for_cancellation(appointment=appointment, reason="patient")
    outbox_deliver_due()

    [message] = mail.outbox
    cancel = attachment(message, "CANCEL")
    event = cancel.walk("VEVENT")[0]
    assert cancel["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 1 and str(event["UID"]).startswith("appointment-K7M2Q9@")
    assert REASON not in message.body


def test_a_reschedule_sends_one_mail_moving_the_appointment(appointment, alice):
    old = appointment
    new = AppointmentFactory(patient=old.patient, booked_by=alice, code="N3W1AB")
    old.status = "cancelled"
    old.cancel_reason = "rescheduled"
    old.save()

    with translation.override("en"), transaction.atomic():
        messages_for_booking(appointment=new, rescheduled_from=old)
        messages_for_cancellation(appointment=old, reason="rescheduled")
    outbox_deliver_due()

    [message] = mail.outbox
    assert "moved" in message.subject.lower()
    assert str(attachment(message, "REQUEST").walk("VEVENT")[0]["UID"]).startswith(
        "appointment-N3W1AB@"
    )
    assert str(attachment(message, "CANCEL").walk("VEVENT")[0]["UID"]).startswith(
        "appointment-K7M2Q9@"
    )
