"""Reads behind the booking pages: a doctor's grid of periods, an account's appointments, the
front desk's lookup by code, the personal calendar feed. Every read that names an appointment
is scoped to the asking account (or desk), so anything else is simply not found."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from appointments.models import Appointment, Slot
from hospitals.models import Doctor, Hospital, StaffMembership
from records.models import PatientLink

GRID_DAYS = 14


class PeriodState:
    OPEN = "open"
    FULL = "full"
    CLOSED = "closed"
    NOT_RELEASED = "opens"
    REFERRAL_ONLY = "referral"


@dataclass
class Period:
    """One slot as the doctor page shows it."""

    slot: Slot
    state: str
    public_left: int
    referral_left: int

    @property
    def bookable(self) -> bool:
        return self.state == PeriodState.OPEN


@dataclass
class GridDay:
    day: dt.date
    periods: list[Period] = field(default_factory=list)


def period_of(slot: Slot, *, now: dt.datetime) -> Period:
    """How a slot stands now: closed, not yet released, full, or open with places left."""
    public_left = slot.public_places_left(now=now)
    referral_left = slot.referral_places_left(now=now)
    if slot.closed_at is not None:
        state = PeriodState.CLOSED
    elif now < slot.release_at:
        # Referral places may already be open; patients without one wait for the release.
        state = PeriodState.NOT_RELEASED
    elif public_left > 0:
        state = PeriodState.OPEN
    elif referral_left > 0:
        state = PeriodState.REFERRAL_ONLY
    else:
        state = PeriodState.FULL
    return Period(slot=slot, state=state, public_left=public_left, referral_left=referral_left)


def doctor_public(*, pk: int) -> Doctor | None:
    """An active doctor of an active hospital, with hospital and department, or None."""
    return (
        Doctor.objects.select_related("hospital", "department")
        .filter(pk=pk, is_active=True, hospital__is_active=True)
        .first()
    )


def doctor_grid(
    *, doctor: Doctor, days: int = GRID_DAYS, now: dt.datetime | None = None
) -> list[GridDay]:
    """The doctor's periods from now over `days` days, grouped by local day at each slot's
    site, in one query. Days without a session are left out."""
    now = now or timezone.now()
    slots = (
        Slot.objects.filter(doctor=doctor, start__gt=now, start__lt=now + dt.timedelta(days=days))
        .select_related("site")
        .order_by("start", "mode")
    )
    grid: dict[dt.date, GridDay] = {}
    for slot in slots:
        local_day = timezone.localtime(slot.start, slot.site.zone).date()
        grid.setdefault(local_day, GridDay(day=local_day)).periods.append(period_of(slot, now=now))
    return list(grid.values())


def _linked_patient_ids(account) -> QuerySet:
    """Ids of the people an account may book for or read about through a live link."""
    return (
        PatientLink.objects.live()
        .filter(account=account)
        .filter(Q(can_book=True) | Q(can_read_record=True))
        .values("patient_id")
    )


def appointments_for_account(*, account) -> QuerySet[Appointment]:
    """Every appointment of every person the account has a live link to (booking or reading),
    with everything the list shows, in one query."""
    if not account.is_authenticated:
        return Appointment.objects.none()
    # `consultation` is telemedicine's reverse one-to-one (named, never imported): the room
    # link and the .ics location of online appointments come in the same query.
    return Appointment.objects.filter(patient_id__in=_linked_patient_ids(account)).select_related(
        "patient",
        "slot",
        "slot__doctor",
        "slot__site",
        "slot__department",
        "consultation",
        "queue",
    )


def appointments_upcoming_and_past(
    *, account, now: dt.datetime | None = None
) -> tuple[list[Appointment], list[Appointment]]:
    """(upcoming soonest first, past latest first); a period that has not ended is upcoming."""
    now = now or timezone.now()
    upcoming, past = [], []
    for appointment in appointments_for_account(account=account).order_by("slot__start", "pk"):
        (upcoming if appointment.slot.end > now else past).append(appointment)
    past.reverse()
    return upcoming, past


def appointment_for_account(*, account, code: str) -> Appointment | None:
    """The appointment with this code if the account is linked to its patient, else None."""
    return appointments_for_account(account=account).filter(code=code).first()


def desk_hospitals(*, user) -> QuerySet[Hospital]:
    """Hospitals whose front desk this account works: front desk and hospital admin members;
    every hospital for a platform admin."""
    if not user.is_authenticated or not user.is_active:
        return Hospital.objects.none()
    if user.is_superuser:
        return Hospital.objects.all()
    return Hospital.objects.filter(
        memberships__user=user,
        memberships__role__in=[
            StaffMembership.Role.FRONT_DESK,
            StaffMembership.Role.HOSPITAL_ADMIN,
        ],
    ).distinct()


def desk_appointment(*, user, code: str) -> Appointment | None:
    """The appointment with this code if it takes place at one of the desk's hospitals.
    Another hospital's code is not found, exactly like an unknown one."""
    code = code.strip()
    if not code:
        return None
    # Codes are typed from a phone screen or paper: accept them in either case.
    return (
        Appointment.objects.filter(
            Q(code=code) | Q(code=code.upper()), slot__site__in=desk_hospitals(user=user)
        )
        .select_related(
            "patient", "slot", "slot__doctor", "slot__site", "slot__department", "queue"
        )
        .first()
    )


FEED_PAST_DAYS = 30


def appointments_for_feed(*, account, now: dt.datetime | None = None) -> QuerySet[Appointment]:
    """What the personal feed lists: the account's appointments from a month ago onwards."""
    now = now or timezone.now()
    return (
        appointments_for_account(account=account)
        .filter(slot__start__gte=now - dt.timedelta(days=FEED_PAST_DAYS))
        .order_by("slot__start", "pk")
    )


def people_to_book_for(*, account) -> QuerySet:
    """The people this account may book for (live links with `can_book`)."""
    from records.models import Patient

    return Patient.objects.filter(
        links__account=account, links__revoked_at__isnull=True, links__can_book=True
    ).order_by("links__created_at", "pk")


def referrals_usable_for(*, account, slot: Slot, now: dt.datetime | None = None) -> list:
    """Issued, unexpired referrals of people this account books for that may take this slot's
    referral places (the slot's hospital, and its department or doctor when named)."""
    from records.models import Referral

    now = now or timezone.now()
    referrals = (
        Referral.objects.filter(
            patient__in=people_to_book_for(account=account),
            status=Referral.Status.ISSUED,
            valid_until__gt=now,
            to_hospital_id__in={slot.site_id, slot.doctor.hospital_id},
        )
        .filter(Q(to_department__isnull=True) | Q(to_department_id=slot.department_id))
        .filter(Q(to_doctor__isnull=True) | Q(to_doctor_id=slot.doctor_id))
        .select_related("patient")
        .order_by("valid_until")
    )
    return list(referrals)


def slot_for_booking(*, pk: int) -> Slot | None:
    """A slot of an active doctor at an active site, with what the confirmation page shows."""
    return (
        Slot.objects.select_related("doctor", "doctor__hospital", "site", "department")
        .filter(pk=pk, doctor__is_active=True, site__is_active=True)
        .first()
    )


def reschedule_choices(*, appointment: Appointment, now: dt.datetime | None = None) -> list:
    """Open periods of the same doctor over the grid's days, the current one left out."""
    now = now or timezone.now()
    periods = [
        period
        for day in doctor_grid(doctor=appointment.slot.doctor, now=now)
        for period in day.periods
        if period.bookable and period.slot.pk != appointment.slot_id
    ]
    return periods


def appointment_by_idempotency_key(*, account, key: str) -> Appointment | None:
    """The appointment this account already booked with this form key (a retried submit)."""
    if not key or not account.is_authenticated:
        return None
    return Appointment.objects.filter(booked_by=account, idempotency_key=key).first()
