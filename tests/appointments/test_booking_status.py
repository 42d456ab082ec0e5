"""The status machine: booked → checked_in → in_consult → completed, or cancelled, or
no-show; every other edge is refused, every change audited."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from appointments import errors
from appointments.models import Appointment
from appointments.services import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_mark_no_show,
    appointment_start_consult,
    mark_no_shows,
)
from appointments.signals import appointment_status_changed
from audit.models import AuditEvent
from tests.appointments.conftest import open_slot, person
from tests.factories import AppointmentFactory, SlotFactory, UserFactory

pytestmark = pytest.mark.django_db

SERVICES = {
    "checked_in": appointment_check_in,
    "in_consult": appointment_start_consult,
    "completed": appointment_complete,
    "no_show": appointment_mark_no_show,
}
LEGAL = {
    ("booked", "checked_in"),
    ("checked_in", "in_consult"),
    ("in_consult", "completed"),
    ("booked", "no_show"),
}


def test_the_whole_visit_on_the_day():
    slot = open_slot()
    patient, account = person()
    desk = UserFactory()
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    changes = []
    appointment_status_changed.connect(
        lambda **kw: changes.append((kw["old"], kw["new"])), weak=False, dispatch_uid="s"
    )
    try:
        with time_machine.travel(slot.start - dt.timedelta(minutes=20), tick=False):
            appointment = appointment_check_in(appointment=appointment, by=desk)
        with time_machine.travel(slot.start, tick=False):
            appointment = appointment_start_consult(appointment=appointment, by=desk)
            appointment = appointment_complete(appointment=appointment, by=desk)
    finally:
        appointment_status_changed.disconnect(dispatch_uid="s")

    assert appointment.status == "completed" and appointment.checked_in_at and appointment.ended_at
    assert changes == [
        ("booked", "checked_in"),
        ("checked_in", "in_consult"),
        ("in_consult", "completed"),
    ]
    trail = AuditEvent.objects.filter(
        target_id=str(appointment.pk), action__startswith="appointment."
    ).order_by("pk")
    assert [e.data.get("to") for e in trail] == ["booked", "checked_in", "in_consult", "completed"]
    assert all(e.actor == desk for e in trail[1:])


def test_check_in_only_on_the_day_of_the_slot():
    slot = open_slot()
    patient, account = person()
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    with pytest.raises(errors.NotOnTheDay):
        appointment_check_in(appointment=appointment, by=account)
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_an_online_appointment_goes_straight_into_the_consult():
    slot = open_slot(mode="online")
    patient, account = person()
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    assert appointment_start_consult(appointment=appointment, by=account).status == "in_consult"


def test_an_in_person_appointment_checks_in_before_the_consult():
    slot = open_slot()
    patient, account = person()
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    with pytest.raises(errors.IllegalTransition):
        appointment_start_consult(appointment=appointment, by=account)


@pytest.mark.parametrize("old", [s for s, _label in Appointment.Status.choices])
@pytest.mark.parametrize("new", list(SERVICES))
def test_every_illegal_edge_is_refused(old, new):
    if (old, new) in LEGAL:
        pytest.skip("a legal edge")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    appointment = AppointmentFactory(
        status=old, slot=SlotFactory(start=start, end=start + dt.timedelta(minutes=30))
    )
    with pytest.raises(errors.IllegalTransition):
        SERVICES[new](appointment=appointment, by=None)
    appointment.refresh_from_db()
    assert appointment.status == old


@pytest.mark.parametrize("old", ["checked_in", "in_consult", "completed", "no_show"])
def test_only_booked_appointments_are_cancelled_by_the_patient(old):
    patient, account = person()
    appointment = AppointmentFactory(status=old, patient=patient, booked_by=account)
    with pytest.raises(errors.IllegalTransition):
        appointment_cancel(appointment=appointment, by=account, reason="patient")


def test_no_show_only_once_the_slot_began():
    slot = open_slot()
    patient, account = person()
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    with pytest.raises(errors.NoShowTooEarly):
        appointment_mark_no_show(appointment=appointment, by=None)


def test_the_sweep_marks_unchecked_in_person_appointments_after_the_grace():
    slot = open_slot()
    online = open_slot(mode="online")
    patient, account = person()
    missed = appointment_book(patient=patient, slot=slot, booked_by=account)
    child = person(account, relationship="child", birth_date=dt.date(2019, 1, 1))[0]
    remote = appointment_book(patient=child, slot=online, booked_by=account)

    with time_machine.travel(slot.end + dt.timedelta(minutes=29), tick=False):
        assert mark_no_shows() == 0
    with time_machine.travel(slot.end + dt.timedelta(minutes=30), tick=False):
        assert mark_no_shows() == 1
    missed.refresh_from_db()
    remote.refresh_from_db()
    assert missed.status == "no_show" and remote.status == "booked"
    assert AuditEvent.objects.get(action="appointment.no_show").data["why"] == "not checked in"
