"""Builders for the remote consultation tests (远程会诊, issue 15): a clinic doctor's visit going
on, a cloud hospital specialist with a remote-consultation period that opens now, and the
consultation booked through the real services."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from telemedicine.services_remote import remote_consultation_book
from tests.appointments.conftest import open_slot
from tests.factories import (
    ConsentFactory,
    DepartmentFactory,
    DoctorFactory,
    HospitalFactory,
    UserFactory,
)
from tests.records.conftest import checked_in_visit


def clinic_visit():
    """A checked-in visit with a clinic's GP: (visit, patient account, GP account)."""
    clinic = HospitalFactory(kind="clinic")
    gp = DoctorFactory(department=DepartmentFactory(hospital=clinic), user=UserFactory())
    return checked_in_visit(doctor=gp)


def remote_period(*, minutes: int = 5, **fields):
    """A remote-consultation period of a cloud hospital's specialist starting in `minutes`."""
    if "doctor" not in fields:
        cloud = HospitalFactory(kind="cloud")
        fields["doctor"] = DoctorFactory(
            department=DepartmentFactory(hospital=cloud), user=UserFactory(), offers_online=True
        )
    start = timezone.now() + dt.timedelta(minutes=minutes)
    fields.setdefault("start", start)
    fields.setdefault("end", fields["start"] + dt.timedelta(minutes=30))
    return open_slot(mode="remote", **fields)


def remote_consultation(*, invite_patient: bool = True, consent: bool = True):
    """A remote consultation booked on a clinic visit, its room open now: (consultation, visit,
    patient account, GP account, specialist account)."""
    visit, family, gp = clinic_visit()
    if consent:
        ConsentFactory(
            patient=visit.patient, given_by=family, on_behalf="self", kind="telemedicine"
        )
    slot = remote_period()
    consultation = remote_consultation_book(
        visit=visit,
        slot=slot,
        by=gp,
        question="Itchy rash on both forearms for three weeks: eczema or contact dermatitis?",
        invite_patient=invite_patient,
    )
    return consultation, visit, family, gp, slot.doctor.user
