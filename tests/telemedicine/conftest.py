"""Builders for the consult tests (an online appointment booked through the real service, a
room open now) and the consult socket, spoken to through tests/sockets.py."""

from __future__ import annotations

import datetime as dt

from channels.db import database_sync_to_async
from django.utils import timezone

from appointments.services import appointment_book
from tests.appointments.conftest import open_slot, person
from tests.factories import ConsentFactory
from tests.sockets import open_socket, receive_until


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


def open_room(**booking_fields):
    """An online appointment whose room is open now (the slot starts in five minutes)."""
    start = timezone.now() + dt.timedelta(minutes=5)
    return online_booking(start=start, end=start + dt.timedelta(minutes=30), **booking_fields)


@database_sync_to_async
def room():
    """open_room() from a consumer test: (public id, patient account, doctor account,
    appointment)."""
    appointment, patient, doctor = open_room()
    return appointment.consultation.public_id, patient, doctor, appointment


async def consult_socket(public_id, user=None, *, session_key: str | None = None):
    """The consult socket of a room, signed in as `user` or with the session `session_key`
    (anonymous without either)."""
    return await open_socket(f"/ws/consult/{public_id}/", user, session_key=session_key)


async def joined(public_id, user=None, *, session_key: str | None = None):
    """A consult socket that has joined the room and heard the presence."""
    communicator = await consult_socket(public_id, user, session_key=session_key)
    await communicator.send_json_to({"type": "join"})
    await receive_until(communicator, "presence")
    return communicator
