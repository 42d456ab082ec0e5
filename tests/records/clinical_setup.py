"""Builders for the clinical record tests: an in-person visit checked in at the desk and a
live online consult, both through the real booking and consult services.

Use them under the `clinic_hours` fixture: the clock stands still at 09:55 (Shanghai) on a
weekday, so a slot at 10:00 is on the same local day and its room is open.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from appointments.models import Appointment
from appointments.services import appointment_book, appointment_check_in
from records.models import Drug
from telemedicine.services import consultation_admit, consultation_join
from tests.appointments.booking_setup import SHANGHAI, open_slot, person
from tests.factories import ConsentFactory, UserFactory

CLINIC_MOMENT = dt.datetime(2026, 12, 2, 9, 55, tzinfo=SHANGHAI)  # a Wednesday


def _soon(**slot_fields) -> dict:
    start = timezone.now() + dt.timedelta(minutes=5)
    slot_fields.setdefault("start", start)
    slot_fields.setdefault("end", slot_fields["start"] + dt.timedelta(minutes=30))
    return slot_fields


def booked_visit(patient=None, account=None, **slot_fields):
    """An in-person appointment in five minutes: (appointment, patient account, doctor)."""
    slot = open_slot(mode="in_person", **_soon(**slot_fields))
    if patient is None:
        patient, account = person()
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    return appointment, account, slot.doctor.user


def checked_in_visit(**slot_fields):
    """Booked and checked in at the desk: the encounter is open."""
    appointment, account, doctor = booked_visit(**slot_fields)
    appointment_check_in(appointment=appointment, by=UserFactory())
    return Appointment.objects.get(pk=appointment.pk), account, doctor


def live_consult(**slot_fields):
    """An online appointment in five minutes whose consult the doctor admitted."""
    slot = open_slot(mode="online", **_soon(**slot_fields))
    patient, account = person()
    ConsentFactory(patient=patient, given_by=account, on_behalf="self", kind="telemedicine")
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    doctor = slot.doctor.user
    consultation_join(consultation=appointment.consultation, account=account)
    consultation_admit(consultation=appointment.consultation, by=doctor)
    return Appointment.objects.get(pk=appointment.pk), account, doctor


def drug(*, controlled: bool = False) -> Drug:
    name, strength, name_en = (
        ("地西泮片", "2.5 mg", "Diazepam tablets")
        if controlled
        else ("氯雷他定片", "10 mg", "Loratadine tablets")
    )
    found, _ = Drug.objects.get_or_create(
        name=name,
        strength=strength,
        defaults={"name_en": name_en, "is_controlled": controlled},
    )
    return found


def item(drug_row: Drug, **fields) -> dict:
    values = {"drug": drug_row, "dose": "1 片", "frequency": "每日一次", "days": 7, "quantity": 7}
    values.update(fields)
    return values
