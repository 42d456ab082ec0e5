"""The booking's fixed SQL (appointments.fixed_sql, issue 16) says what the ORM's querysets say:
the one read of a booking's slot and patient facts (appointments.selectors.booking_facts, with
and without the lock) against `policies._facts_orm`, and `slot_public` against its queryset,
case by case; the rows load as the ORM loads them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from appointments import policies
from appointments.models import Appointment, Hold, Slot
from appointments.selectors import doctor_grid, slots, sold_out
from appointments.selectors.slots import slot_public, slots_public
from appointments.services import hold_create
from tests.appointments.conftest import later_slot, open_slot, person
from tests.factories import AppointmentFactory, HospitalFactory, SlotFactory, UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="fixed SQL is PostgreSQL's"),
]


def both(patient, slot, account, *, phone=""):
    now = timezone.now()
    orm = policies._facts_orm(patient=patient, slot=slot, account=account, phone=phone, now=now)
    fixed = policies._facts_fixed(patient=patient, slot=slot, account=account, phone=phone, now=now)
    locked = policies._facts_fixed(
        patient=patient, slot=slot, account=account, phone=phone, now=now, lock=True
    )
    for loaded, _facts in (fixed, locked):
        assert loaded.__dict__.keys() >= {"id", "start", "booked"}
        for name in ("site", "doctor", "department"):
            assert getattr(loaded, name).__dict__ == getattr(orm[0], name).__dict__ | {
                "_state": getattr(loaded, name)._state
            }
        assert loaded.doctor.user == orm[0].doctor.user
        assert [getattr(loaded, f.attname) for f in Slot._meta.concrete_fields] == [
            getattr(orm[0], f.attname) for f in Slot._meta.concrete_fields
        ]
    assert tuple(fixed[1]) == tuple(locked[1]) == tuple(orm[1])
    return tuple(orm[1])


@pytest.fixture
def booking():
    slot = open_slot()
    patient, account = person()
    return patient, slot, account


def test_a_person_clear_to_book(booking):
    assert both(*booking) == (True, True, False, 0, 0, 0)


def test_a_revoked_link_or_one_that_may_not_book(booking):
    patient = booking[0]
    link = patient.links.get()
    link.can_book = False
    link.save()
    assert both(*booking)[0] is False
    link.can_book, link.revoked_at = True, timezone.now()
    link.save()
    assert both(*booking)[0] is False


def test_no_consent_or_a_revoked_one(booking):
    patient = booking[0]
    patient.consents.update(revoked_at=timezone.now())
    assert both(*booking)[1] is False
    patient.consents.all().delete()
    assert both(*booking)[1] is False


def test_an_active_appointment_near_the_slot_and_a_cancelled_one(booking):
    patient, slot, account = booking
    near = later_slot(slot, hours=3)
    appointment = AppointmentFactory(patient=patient, slot=near, booked_by=account)
    assert both(*booking)[2] is True
    appointment.status = Appointment.Status.CANCELLED
    appointment.save()
    assert both(*booking)[2] is False
    far = later_slot(slot, hours=60)
    AppointmentFactory(patient=patient, slot=far, booked_by=account)
    assert both(*booking)[2] is False


def test_no_shows_inside_the_window_count(booking):
    patient, slot, account = booking
    now = timezone.now()
    for days_ago in (10, 40, 200):
        past = SlotFactory(
            doctor=slot.doctor,
            start=now - dt.timedelta(days=days_ago),
            end=now - dt.timedelta(days=days_ago) + dt.timedelta(minutes=30),
        )
        AppointmentFactory(patient=patient, slot=past, booked_by=account, status="no_show")
    assert both(*booking)[3] == 2


def test_the_months_bookings_by_account_and_by_phone(booking):
    patient, slot, account = booking
    account.phone, account.phone_verified = "+8613912345678", True
    account.save()
    other = UserFactory()
    for index, (booked_by, cap_account, reason, phone) in enumerate(
        [
            (account, None, "", ""),  # booked by the account: counts
            (other, account, "", ""),  # counted against it (a care team booked): counts
            (account, None, "hospital", ""),  # cancelled by the hospital: never counts
            (other, other, "", "+8613912345678"),  # with its phone: counts for the phone
        ]
    ):
        AppointmentFactory(
            patient=person()[0],
            slot=later_slot(slot, hours=index + 1),
            booked_by=booked_by,
            cap_account=cap_account,
            cancel_reason=reason,
            status="cancelled" if reason else "booked",
            booked_phone=phone,
        )
    facts = both(patient, slot, account, phone=account.phone)
    assert facts[4:] == (2, 1)


def test_slot_public_reads_what_its_queryset_reads():
    slot = open_slot()
    fixed = slot_public(pk=slot.pk)
    orm = slots_public().select_related("doctor__hospital", "site", "department").get(pk=slot.pk)
    assert [getattr(fixed, f.attname) for f in Slot._meta.concrete_fields] == [
        getattr(orm, f.attname) for f in Slot._meta.concrete_fields
    ]
    assert fixed.doctor.hospital == orm.doctor.hospital and fixed.site == orm.site
    assert fixed.department.name == orm.department.name


def test_slot_public_finds_no_remote_period_and_no_inactive_doctor():
    remote = open_slot(mode="remote")
    assert slot_public(pk=remote.pk) is None
    slot = open_slot()
    slot.doctor.is_active = False
    slot.doctor.save()
    assert slot_public(pk=slot.pk) is None
    assert slot_public(pk=10**9) is None


def asker_both(account, slot, key=""):
    now = timezone.now()
    fixed = sold_out._asker_fixed(account=account, slot=slot, now=now, key=key)
    assert fixed == sold_out._asker_orm(account=account, slot=slot, now=now, key=key)
    return fixed


def test_the_sold_out_asker_reads_what_the_orm_reads():
    slot = open_slot(capacity=1)
    me, account = person()
    assert asker_both(account, slot) == sold_out.Asker(False, None, [(me.pk, me.name)])
    child, _ = person(account, relationship="child", name="小明")
    stranger, other = person()
    revoked, _ = person(account, relationship="parent", name="撤销")
    revoked.links.update(revoked_at=timezone.now())
    watch_only, _ = person(account, relationship="parent", name="只看")
    watch_only.links.update(can_book=False)
    assert asker_both(account, slot).people == [(me.pk, me.name), (child.pk, "小明")]
    # A live hold of its own on this slot, not someone else's, not an expired one.
    hold_create(slot=slot, account=other)
    assert asker_both(account, slot).held is False
    Hold.objects.all().delete()
    Slot.objects.filter(pk=slot.pk).update(booked=0)
    hold = hold_create(slot=slot, account=account)
    assert asker_both(account, slot).held is True
    Hold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert asker_both(account, slot).held is False
    # What this key booked in this slot; not another slot's, not another account's, not "".
    mine = AppointmentFactory(slot=slot, patient=me, booked_by=account, idempotency_key="k9")
    AppointmentFactory(slot=later_slot(slot), patient=me, booked_by=account, idempotency_key="k8")
    assert asker_both(account, slot, key="k9").done_code == mine.code
    assert asker_both(account, slot, key="k8").done_code is None
    assert asker_both(other, slot, key="k9").done_code is None
    assert asker_both(account, slot, key="").done_code is None
    assert asker_both(other, slot).people == [(stranger.pk, stranger.name)]


def test_the_doctor_grid_reads_what_its_queryset_reads():
    first = open_slot(capacity=2)
    full = later_slot(first, hours=1, capacity=1, booked=1)
    closed = later_slot(first, hours=2, closed_at=timezone.now())
    other_site = later_slot(first, hours=24, site=HospitalFactory())
    later_slot(first, hours=24 * 20)  # past the grid's two weeks
    SlotFactory(start=first.start)  # another doctor's
    now = timezone.now()
    until = now + dt.timedelta(days=14)

    fixed = slots._grid_slots_fixed(doctor_id=first.doctor_id, now=now, until=until)
    orm = slots._grid_slots_orm(doctor_id=first.doctor_id, now=now, until=until)

    assert [s.pk for s in fixed] == [first.pk, full.pk, closed.pk, other_site.pk]
    assert [s.pk for s in fixed] == [s.pk for s in orm]
    for mine, theirs in zip(fixed, orm, strict=True):
        assert [getattr(mine, f.attname) for f in Slot._meta.concrete_fields] == [
            getattr(theirs, f.attname) for f in Slot._meta.concrete_fields
        ]
        assert mine.site.__dict__ == theirs.site.__dict__ | {"_state": mine.site._state}
    states = [p.state for day in doctor_grid(doctor=first.doctor, now=now) for p in day.periods]
    assert states == ["open", "full", "closed", "open"]


def test_the_booking_forms_person_reads_what_the_orm_reads():
    from appointments.selectors.appointments import _person_fixed, _person_orm

    mine, account = person()
    revoked, _ = person(account, relationship="child")
    revoked.links.update(revoked_at=timezone.now())
    may_not_book, _ = person(account, relationship="parent")
    may_not_book.links.update(can_book=False)
    someone_elses, _ = person()

    for pk in (mine.pk, revoked.pk, may_not_book.pk, someone_elses.pk, someone_elses.pk + 1000):
        fixed, orm = _person_fixed(account, pk), _person_orm(account, pk)
        assert (fixed is None) == (orm is None) == (pk != mine.pk)
    loaded, expected = _person_fixed(account, mine.pk), _person_orm(account, mine.pk)
    assert [getattr(loaded, f.attname) for f in loaded._meta.concrete_fields] == [
        getattr(expected, f.attname) for f in expected._meta.concrete_fields
    ]
    assert loaded.id_number == expected.id_number and loaded.name == expected.name
