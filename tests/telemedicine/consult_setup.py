"""Builders for the consult tests: an online appointment booked through the real service."""

from __future__ import annotations

import datetime as dt

from appointments.services import appointment_book
from tests.appointments.booking_setup import open_slot, person
from tests.factories import ConsentFactory, UserFactory


def online_booking(*, telemedicine_consent: bool = True, **slot_fields):
    """An online appointment booked by its patient's account, whose person has agreed to
    consults by video (unless told otherwise); returns (appointment, patient account, doctor
    account)."""
    slot = open_slot(mode="online", **slot_fields)
    patient, account = person()
    if telemedicine_consent:
        ConsentFactory(patient=patient, given_by=account, on_behalf="self", kind="telemedicine")
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    return appointment, account, slot.doctor.user


def in_room_time(appointment, minutes: int = -5) -> dt.datetime:
    """An instant relative to the slot's start (default: 5 minutes before, room open)."""
    return appointment.slot.start + dt.timedelta(minutes=minutes)


def stranger():
    return UserFactory()


def open_room(**booking_fields):
    """An online appointment whose room is open now (the slot starts in five minutes)."""
    from django.utils import timezone

    start = timezone.now() + dt.timedelta(minutes=5)
    return online_booking(start=start, end=start + dt.timedelta(minutes=30), **booking_fields)
