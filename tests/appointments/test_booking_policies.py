"""appointment_book: a booking that passes every rule, and each rule's own refusal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from appointments import errors
from appointments.models import Appointment, Slot
from appointments.services import BookingRefused, appointment_book, hold_create
from appointments.signals import appointment_booked
from audit.models import AuditEvent
from records.models import CareRelationship, Consent, PatientLink
from tests.appointments.conftest import counters_hold, later_slot, open_slot, person
from tests.factories import (
    AppointmentFactory,
    DepartmentFactory,
    DoctorFactory,
    PatientLinkFactory,
    ReferralFactory,
    SlotFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def refused(expected, **kwargs) -> BookingRefused:
    with pytest.raises(expected) as caught:
        appointment_book(**kwargs)
    return caught.value


def nothing_left_behind(slot: Slot, before: int = 0) -> None:
    assert Appointment.objects.filter(slot=slot).count() == before
    counters_hold(slot)


def test_a_booking_takes_a_place_and_gets_a_short_unambiguous_code():
    slot = open_slot()
    patient, account = person()
    received = []
    appointment_booked.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t1")
    try:
        appointment = appointment_book(
            patient=patient, slot=slot, booked_by=account, visit_reason="rash"
        )
    finally:
        appointment_booked.disconnect(dispatch_uid="t1")

    slot.refresh_from_db()
    assert slot.booked == 1
    assert appointment.status == "booked" and appointment.pool == "public"
    assert len(appointment.code) == 8
    assert set(appointment.code) <= set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    assert received[0]["appointment"] == appointment and received[0]["by"] == account
    counters_hold(slot)


def test_a_booking_is_audited_without_the_reason_text():
    slot = open_slot()
    patient, account = person()
    appointment = appointment_book(
        patient=patient, slot=slot, booked_by=account, visit_reason="secret rash"
    )

    event = AuditEvent.objects.get(action="appointment.book")
    assert event.target_id == str(appointment.pk)
    assert event.on_behalf_id == str(patient.pk)
    assert event.data["to"] == "booked"
    assert "secret rash" not in str(event.data)


def test_the_doctor_may_read_the_record_until_a_week_after_the_visit():
    slot = open_slot()
    patient, account = person()
    appointment_book(patient=patient, slot=slot, booked_by=account)

    grant = CareRelationship.objects.get(patient=patient, user=slot.doctor.user)
    assert grant.reason == "booking"
    assert grant.ends_at == slot.end + dt.timedelta(days=7)


def test_a_doctor_without_an_account_gets_no_grant_and_the_booking_still_works():
    slot = open_slot(doctor=DoctorFactory(user=None))
    patient, account = person()
    appointment_book(patient=patient, slot=slot, booked_by=account)
    assert not CareRelationship.objects.exists()


def test_a_full_slot_is_refused_with_the_full_message():
    slot = open_slot(capacity=1)
    first, account = person()
    appointment_book(patient=first, slot=slot, booked_by=account)
    other, other_account = person()

    error = refused(errors.SlotFull, patient=other, slot=slot, booked_by=other_account)

    assert error.code == "slot_full"
    assert "fully booked" in str(error.message)
    nothing_left_behind(slot, before=1)


def test_the_full_message_reads_in_chinese():
    slot = open_slot(capacity=0)
    patient, account = person()
    error = refused(errors.SlotFull, patient=patient, slot=slot, booked_by=account)
    with translation.override("zh-hans"):
        assert "已约满" in str(error.message)
    with translation.override("en"):
        assert "fully booked" in str(error.message)


def test_a_slot_not_released_says_when_it_opens():
    start = timezone.now() + dt.timedelta(days=20)
    slot = open_slot(
        start=start, end=start + dt.timedelta(minutes=30), release_at=start - dt.timedelta(days=7)
    )
    patient, account = person()

    with translation.override("en"):
        error = refused(errors.NotReleasedYet, patient=patient, slot=slot, booked_by=account)
        assert "opens for booking at" in str(error.message)
    nothing_left_behind(slot)


def test_a_started_slot_is_refused():
    start = timezone.now() - dt.timedelta(minutes=5)
    slot = open_slot(start=start, end=start + dt.timedelta(minutes=30))
    patient, account = person()
    refused(errors.SlotStarted, patient=patient, slot=slot, booked_by=account)
    nothing_left_behind(slot)


def test_a_closed_slot_is_refused():
    slot = open_slot(closed_at=timezone.now())
    patient, account = person()
    refused(errors.SlotClosed, patient=patient, slot=slot, booked_by=account)
    nothing_left_behind(slot)


def test_an_account_cannot_book_for_a_stranger():
    slot = open_slot()
    patient, _owner = person()
    stranger = UserFactory()
    refused(errors.PatientNotLinked, patient=patient, slot=slot, booked_by=stranger)
    nothing_left_behind(slot)


def test_a_link_without_booking_rights_cannot_book():
    slot = open_slot()
    patient, _owner = person()
    reader = UserFactory()
    PatientLinkFactory(
        patient=patient, account=reader, relationship="spouse", is_manager=False, can_book=False
    )
    refused(errors.PatientNotLinked, patient=patient, slot=slot, booked_by=reader)


def test_a_revoked_link_cannot_book():
    slot = open_slot()
    patient, account = person()
    PatientLink.objects.filter(account=account).update(revoked_at=timezone.now())
    refused(errors.PatientNotLinked, patient=patient, slot=slot, booked_by=account)


def test_booking_needs_the_persons_live_consent():
    slot = open_slot()
    patient, account = person()
    Consent.objects.filter(patient=patient).update(revoked_at=timezone.now())

    error = refused(errors.ConsentMissing, patient=patient, slot=slot, booked_by=account)
    assert "consent" in str(error.message)
    nothing_left_behind(slot)


def test_one_person_cannot_take_two_places_of_one_slot():
    slot = open_slot()
    patient, account = person()
    appointment_book(patient=patient, slot=slot, booked_by=account)
    refused(errors.AlreadyBooked, patient=patient, slot=slot, booked_by=account)
    nothing_left_behind(slot, before=1)


def test_overlapping_appointments_are_refused():
    slot = open_slot()
    patient, account = person()
    appointment_book(patient=patient, slot=slot, booked_by=account)
    # Another doctor, another department, overlapping by fifteen minutes.
    start = slot.start + dt.timedelta(minutes=15)
    clash = open_slot(start=start, end=start + dt.timedelta(minutes=30))

    error = refused(errors.Overlapping, patient=patient, slot=clash, booked_by=account)
    assert Appointment.objects.get(slot=slot).code in str(error.message)


def test_one_appointment_per_doctor_session():
    slot = open_slot()
    patient, account = person()
    appointment_book(patient=patient, slot=slot, booked_by=account)
    refused(
        errors.SameDoctorSession,
        patient=patient,
        slot=later_slot(slot),
        booked_by=account,
    )


def test_one_appointment_per_department_a_day():
    slot = open_slot()
    patient, account = person()
    appointment_book(patient=patient, slot=slot, booked_by=account)
    colleague = DoctorFactory(department=slot.department, user=None)
    start = slot.start + dt.timedelta(hours=2)
    other = SlotFactory(doctor=colleague, start=start, end=start + dt.timedelta(minutes=30))
    refused(errors.SameDepartmentDay, patient=patient, slot=other, booked_by=account)


def test_another_department_the_same_day_is_fine():
    slot = open_slot()
    patient, account = person()
    appointment_book(patient=patient, slot=slot, booked_by=account)
    start = slot.start + dt.timedelta(hours=2)
    other = open_slot(start=start, end=start + dt.timedelta(minutes=30))
    assert appointment_book(patient=patient, slot=other, booked_by=account).status == "booked"


def _monthly_history(account, count: int, phone_user=None) -> None:
    for _index in range(count):
        AppointmentFactory(booked_by=phone_user or account, created_at=timezone.now())


def test_the_monthly_cap_per_account():
    slot = open_slot()
    slot.site.monthly_cap_per_account = 2
    slot.site.save()
    patient, account = person()
    _monthly_history(account, 2)

    with translation.override("en"):
        error = refused(errors.MonthlyCapAccount, patient=patient, slot=slot, booked_by=account)
        assert "2 bookings this month" in str(error.message)
    nothing_left_behind(slot)


def test_cancellations_the_patient_did_not_cause_do_not_count_toward_the_cap():
    slot = open_slot()
    slot.site.monthly_cap_per_account = 1
    slot.site.save()
    patient, account = person()
    AppointmentFactory(booked_by=account, status="cancelled", cancel_reason="closure")
    assert appointment_book(patient=patient, slot=slot, booked_by=account)


def test_the_monthly_cap_per_phone_follows_the_number_to_another_account():
    slot = open_slot()
    slot.site.monthly_cap_per_phone = 2
    slot.site.monthly_cap_per_account = 8
    slot.site.save()
    first, previous_owner = person()
    appointment_book(patient=first, slot=slot, booked_by=previous_owner)
    appointment_book(
        patient=person(previous_owner, relationship="child")[0],
        slot=later_slot(slot),
        booked_by=previous_owner,
    )
    number = previous_owner.phone
    previous_owner.phone_verified = False
    previous_owner.save()
    patient, account = person()
    account.phone = number
    account.save()

    with translation.override("en"):
        error = refused(errors.MonthlyCapPhone, patient=patient, slot=slot, booked_by=account)
        assert "phone number" in str(error.message)


def test_an_unverified_phone_has_no_phone_cap():
    slot = open_slot()
    slot.site.monthly_cap_per_phone = 0
    slot.site.save()
    patient, account = person()
    account.phone_verified = False
    account.save()
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    assert appointment.booked_phone == ""


def test_paediatrics_takes_children_by_their_age_on_the_day_of_the_slot():
    paediatrics = DepartmentFactory(max_age_years=14)
    doctor = DoctorFactory(department=paediatrics, user=None)
    slot = open_slot(doctor=doctor)
    local_day = slot.start.astimezone(slot.site.zone).date()
    # Turns 15 on the day of the slot: too old that day.
    birthday = local_day.replace(year=local_day.year - 15)
    child, account = person(birth_date=birthday, relationship="child")

    with translation.override("en"):
        error = refused(errors.NotEligibleAge, patient=child, slot=slot, booked_by=account)
        assert "0–14" in str(error.message)

    younger, account2 = person(birth_date=birthday + dt.timedelta(days=1), relationship="child")
    assert appointment_book(patient=younger, slot=slot, booked_by=account2)


def test_gynaecology_takes_women_only():
    gynaecology = DepartmentFactory(sex="female")
    slot = open_slot(doctor=DoctorFactory(department=gynaecology, user=None))
    man, account = person(sex="male")
    with translation.override("en"):
        error = refused(errors.NotEligibleSex, patient=man, slot=slot, booked_by=account)
        assert "female" in str(error.message)


def _no_shows(patient, count: int, *, days_ago: int = 10) -> None:
    for index in range(count):
        start = timezone.now() - dt.timedelta(days=days_ago + index)
        AppointmentFactory(
            patient=patient,
            status="no_show",
            slot=SlotFactory(start=start, end=start + dt.timedelta(minutes=30)),
        )


def test_three_no_shows_in_ninety_days_block_the_person():
    slot = open_slot()
    patient, account = person()
    _no_shows(patient, 3)

    with translation.override("en"):
        error = refused(errors.NoShowBlocked, patient=patient, slot=slot, booked_by=account)
        assert "missed 3 appointments" in str(error.message)


def test_a_parents_no_shows_never_block_the_child():
    slot = open_slot()
    parent, account = person()
    _no_shows(parent, 3)
    child, _same = person(account, relationship="child", birth_date=dt.date(2020, 1, 1))
    assert appointment_book(patient=child, slot=slot, booked_by=account)


def test_the_block_ends_after_its_days():
    slot = open_slot()
    patient, account = person()
    _no_shows(patient, 3, days_ago=40)  # the block of 30 days has run out
    assert appointment_book(patient=patient, slot=slot, booked_by=account)


def test_closure_cancellations_never_count_as_no_shows():
    slot = open_slot()
    patient, account = person()
    for index in range(3):
        start = timezone.now() - dt.timedelta(days=5 + index)
        AppointmentFactory(
            patient=patient,
            status="cancelled",
            cancel_reason="closure",
            slot=SlotFactory(start=start, end=start + dt.timedelta(minutes=30)),
        )
    assert appointment_book(patient=patient, slot=slot, booked_by=account)


def _referral_slot(**fields):
    return open_slot(capacity=0, referral_capacity=1, **fields)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"valid_until": timezone.now() - dt.timedelta(minutes=1)}, "expired"),
        ({"status": "booked"}, "already been used"),
        ({"status": "expired"}, "expired"),
        ("another_patient", "another person"),
        ("another_hospital", "another hospital"),
        ("another_department", "another department"),
        ("another_doctor", "another doctor"),
    ],
)
def test_an_unusable_referral_is_refused(change, why):
    slot = _referral_slot()
    patient, account = person()
    fields = {"patient": patient, "to_hospital": slot.site}
    if change == "another_patient":
        fields["patient"] = person()[0]
    elif change == "another_hospital":
        fields["to_hospital"] = DoctorFactory().hospital
    elif change == "another_department":
        fields["to_department"] = DepartmentFactory(hospital=slot.site)
    elif change == "another_doctor":
        fields["to_doctor"] = DoctorFactory(department=slot.department)
    else:
        fields.update(change)
    referral = ReferralFactory(**fields)

    with translation.override("en"):
        error = refused(
            errors.ReferralUnusable,
            patient=patient,
            slot=slot,
            booked_by=account,
            referral=referral,
        )
        assert why in str(error.message)
    nothing_left_behind(slot)
    referral.refresh_from_db()
    assert referral.status == fields.get("status", "issued")


def test_a_referral_takes_a_referral_place_and_is_marked_booked():
    slot = _referral_slot()
    patient, account = person()
    referral = ReferralFactory(patient=patient, to_hospital=slot.site, to_doctor=slot.doctor)

    appointment = appointment_book(patient=patient, slot=slot, booked_by=account, referral=referral)

    slot.refresh_from_db()
    referral.refresh_from_db()
    assert appointment.pool == "referral" and slot.referral_booked == 1
    assert referral.status == "booked"
    counters_hold(slot)


def test_without_a_referral_referral_places_are_not_for_the_public():
    slot = _referral_slot()
    patient, account = person()
    refused(errors.SlotFull, patient=patient, slot=slot, booked_by=account)


def test_after_the_merge_time_unused_referral_places_are_public():
    slot = _referral_slot(referral_merge_at=timezone.now() - dt.timedelta(minutes=1))
    patient, account = person()
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    slot.refresh_from_db()
    assert appointment.pool == "referral" and appointment.referral is None
    assert slot.referral_booked == 1 and slot.booked == 0
    counters_hold(slot)


def test_a_hold_of_another_account_cannot_be_used():
    slot = open_slot()
    patient, account = person()
    thief = UserFactory()
    hold = hold_create(slot=slot, account=thief)
    refused(errors.HoldNotYours, patient=patient, slot=slot, booked_by=account, hold=hold)
    nothing_left_behind(slot)


def test_every_refusal_has_a_code_and_a_message_in_both_languages():
    for refusal in BookingRefused.__subclasses__():
        error = refusal(
            opens_at=timezone.now(),
            code="X",
            cap=1,
            range="0–14",
            sex="female",
            count=3,
            until=timezone.now(),
            why="x",
            hours=2,
            old="a",
            new="b",
            number="A001",
        )
        assert error.code
        with translation.override("en"):
            english = str(error.message)
        with translation.override("zh-hans"):
            chinese = str(error.message)
        assert english and chinese and english != chinese, refusal
