"""Stop-clinic: a closure closes exactly the slots of its doctor, department or site."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from appointments.models import Closure, Slot
from appointments.selectors import closure_affected_appointments_count
from appointments.services import closure_create
from audit.models import AuditEvent
from tests.factories import (
    AppointmentFactory,
    DepartmentFactory,
    DoctorFactory,
    HospitalFactory,
    SlotFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def town():
    """Two doctors in one department and one in another at hospital A, one at B, and a cloud
    site where A's first doctor also holds online sessions; each has a slot tomorrow 09:00."""
    a, b, cloud = HospitalFactory(), HospitalFactory(), HospitalFactory(kind="cloud")
    derm = DepartmentFactory(hospital=a)
    ent = DepartmentFactory(hospital=a)
    first = DoctorFactory(department=derm, offers_online=True)
    second = DoctorFactory(department=derm)
    third = DoctorFactory(department=ent)
    fourth = DoctorFactory(department__hospital=b)
    at = timezone.now().replace(hour=1, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    slots = {
        "first": SlotFactory(doctor=first, start=at, booked=2),
        "first_online": SlotFactory(doctor=first, site=cloud, start=at, mode="online"),
        "first_later": SlotFactory(doctor=first, start=at + dt.timedelta(days=3)),
        "second": SlotFactory(doctor=second, start=at, referral_capacity=1, referral_booked=1),
        "third": SlotFactory(doctor=third, start=at),
        "fourth": SlotFactory(doctor=fourth, start=at, booked=1),
    }
    window = (at - dt.timedelta(hours=1), at + dt.timedelta(hours=2))
    return {"a": a, "cloud": cloud, "derm": derm, "first": first, "slots": slots, "window": window}


def _closed(town):
    return sorted(name for name, slot in town["slots"].items() if _is_closed(slot))


def _is_closed(slot):
    slot.refresh_from_db()
    return slot.closed_at is not None


@pytest.mark.parametrize(
    ("scope", "target", "closed"),
    [
        ("doctor", "first", ["first", "first_online"]),
        ("department", "derm", ["first", "first_online", "second"]),
        ("hospital", "a", ["first", "second", "third"]),
        ("hospital", "cloud", ["first_online"]),
    ],
)
def test_a_closure_closes_exactly_the_slots_of_its_scope_in_its_period(
    town, platform_admin, scope, target, closed
):
    starts_at, ends_at = town["window"]

    closure = closure_create(
        scope=scope,
        starts_at=starts_at,
        ends_at=ends_at,
        reason="Conference",
        by=platform_admin,
        **{scope: town[target]},
    )

    assert _closed(town) == closed
    assert set(Slot.objects.filter(closure=closure).values_list("pk", flat=True)) == {
        town["slots"][name].pk for name in closed
    }


def test_the_confirmation_counts_the_appointments_it_will_cancel_not_holds(town):
    starts_at, ends_at = town["window"]
    first, second, third = (town["slots"][name] for name in ("first", "second", "third"))
    # The first slot's two taken places are appointments; a third place is a live hold.
    Slot.objects.filter(pk=first.pk).update(booked=3)
    AppointmentFactory.create_batch(2, slot=first)
    AppointmentFactory(slot=second, pool="referral", status="checked_in")
    AppointmentFactory(slot=first, status="cancelled")
    AppointmentFactory(slot=third)  # another department: not covered

    count = closure_affected_appointments_count(
        scope="department", department=town["derm"], starts_at=starts_at, ends_at=ends_at
    )

    assert count == 3  # two of the first doctor, one referral (checked in) of the second


def test_a_closure_cancels_the_appointments_of_its_slots_in_its_transaction_and_audits_each_doctor(
    town, platform_admin, monkeypatch
):
    from appointments.services import closures

    booked = AppointmentFactory(slot=town["slots"]["first"])
    received = []
    cancel = closures.closure_cancel_appointments

    def watched(*, closure, slot_ids):
        # Inside the transaction: the slots are already closed when the booking code looks.
        received.append(
            (
                closure.pk,
                sorted(slot_ids),
                Slot.objects.filter(pk__in=slot_ids, closed_at__isnull=False).count(),
            )
        )
        cancel(closure=closure, slot_ids=slot_ids)

    monkeypatch.setattr(closures, "closure_cancel_appointments", watched)
    starts_at, ends_at = town["window"]
    closure = closure_create(
        scope="department",
        department=town["derm"],
        starts_at=starts_at,
        ends_at=ends_at,
        reason="Training day",
        by=platform_admin,
    )

    assert received == [
        (closure.pk, sorted(Slot.objects.filter(closure=closure).values_list("pk", flat=True)), 3)
    ]
    booked.refresh_from_db()
    assert (booked.status, booked.cancel_reason) == ("cancelled", "closure")
    (cancel_event,) = AuditEvent.objects.filter(action="appointment.cancel")
    assert cancel_event.target == booked and cancel_event.data["why"] == "closure"
    events = AuditEvent.objects.filter(action="closure.create")
    (doctor_event,) = [event for event in events if event.target == town["first"]]
    assert doctor_event.data["closure_id"] == closure.pk
    assert doctor_event.data["slots_closed"] == 2
    assert doctor_event.data["places_booked"] == 2
    assert {event.target for event in events} == {
        town["derm"],
        town["first"],
        Slot.objects.get(pk=town["slots"]["second"].pk).doctor,
    }


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"scope": "doctor"}, "doctor"),
        ({"scope": "nothing"}, "scope"),
        ({"scope": "hospital", "reason": " "}, "reason"),
        ({"scope": "hospital", "swap": True}, "ends_at"),
    ],
)
def test_a_closure_without_target_reason_or_a_forward_period_is_refused(
    town, platform_admin, kwargs, field
):
    starts_at, ends_at = town["window"]
    if kwargs.pop("swap", False):
        starts_at, ends_at = ends_at, starts_at
    arguments = {
        "starts_at": starts_at,
        "ends_at": ends_at,
        "reason": "Away",
        "by": platform_admin,
        "hospital": town["a"],
    } | kwargs
    if arguments["scope"] == "doctor":
        arguments.pop("hospital")

    with pytest.raises(ValidationError) as refused:
        closure_create(**arguments)

    assert field in refused.value.message_dict
    assert not Closure.objects.exists()
    assert _closed(town) == []


def test_the_database_refuses_a_closure_naming_a_target_outside_its_scope(town):
    starts_at, ends_at = town["window"]

    with pytest.raises(IntegrityError):
        Closure.objects.create(
            scope="doctor", hospital=town["a"], starts_at=starts_at, ends_at=ends_at, reason="x"
        )
