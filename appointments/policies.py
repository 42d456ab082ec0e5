"""Who may book what (DESIGN.md §3): one small function per rule, each raising a typed refusal
whose `message` is translated when it is read (so a page shows it in the reader's language).

Every policy takes the appointment it ignores (`ignore=`): a reschedule does not compete with
the appointment it replaces.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import formats, timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from appointments.models import ACTIVE_STATUSES, Appointment, Slot
from records.models import ConsentKind, Patient, PatientLink, age_on
from records.selectors import patient_has_consent

NO_SHOW_WINDOW = dt.timedelta(days=90)
CAP_ZONE = ZoneInfo("Asia/Shanghai")  # months are counted on the city's calendar
# Cancellations that were not the patient's doing never count against them.
NOT_THE_PATIENTS_DOING = ("hospital", "closure", "rescheduled")


def _render(template: Any, params: dict[str, Any]) -> str:
    text = str(template)
    rendered = {}
    for key, value in params.items():
        if isinstance(value, dt.datetime):
            # "Nov. 28, 2026 12:00" / "2026年11月28日 12:00": a 24-hour clock, no "p.m.".
            value = formats.date_format(
                timezone.localtime(value), formats.get_format("DATE_FORMAT") + " H:i"
            )
        elif isinstance(value, dt.date):
            value = formats.date_format(value, "DATE_FORMAT")
        rendered[key] = value
    return text % rendered if rendered else text


_render_lazy = lazy(_render, str)


class BookingRefused(Exception):
    """A booking (or hold, cancel, status change) the rules refuse. `code` is stable for APIs;
    `message` is the human sentence, translated when read."""

    code = "refused"
    template = _("This time cannot be booked.")

    def __init__(self, **params: Any) -> None:
        self.params = params
        self.message = _render_lazy(self.template, params)
        super().__init__(self.code)

    def __str__(self) -> str:
        return str(self.message)


class SlotFull(BookingRefused):
    code = "slot_full"
    template = _("This time is fully booked. Choose another time or join its waiting list.")


class ReferralPlacesFull(SlotFull):
    code = "slot_full"
    template = _("Every referral place of this time is taken. Choose another time.")


class NotReleasedYet(BookingRefused):
    code = "not_released"
    template = _("This time opens for booking at %(opens_at)s.")


class SlotStarted(BookingRefused):
    code = "started"
    template = _("This time has already begun and can no longer be booked.")


class SlotClosed(BookingRefused):
    code = "closed"
    template = _("The clinic is closed at this time; it cannot be booked.")


class PatientNotLinked(BookingRefused):
    code = "not_linked"
    template = _("Your account may not book for this person.")


class ConsentMissing(BookingRefused):
    code = "consent_missing"
    template = _(
        "Booking needs this person's consent to the processing of their ID and health data. "
        "Give it on their page first."
    )


class AlreadyBooked(BookingRefused):
    code = "already_booked"
    template = _("This person already has an appointment at this time.")


class Overlapping(BookingRefused):
    code = "overlapping"
    template = _("This person already has an appointment that overlaps this time (%(code)s).")


class SameDoctorSession(BookingRefused):
    code = "same_doctor_session"
    template = _("This person already has an appointment in this doctor's session.")


class SameDepartmentDay(BookingRefused):
    code = "same_department_day"
    template = _("This person already has an appointment in this department on that day.")


class MonthlyCapAccount(BookingRefused):
    code = "monthly_cap_account"
    template = _("Your account has made %(cap)d bookings this month, the most allowed.")


class MonthlyCapPhone(BookingRefused):
    code = "monthly_cap_phone"
    template = _(
        "Your phone number has been used for %(cap)d bookings this month, the most allowed."
    )


class NotEligibleAge(BookingRefused):
    code = "not_eligible_age"
    template = _("This department sees patients aged %(range)s only.")


class NotEligibleSex(BookingRefused):
    code = "not_eligible_sex"
    template = _("This department sees %(sex)s patients only.")


class NoShowBlocked(BookingRefused):
    code = "no_show_blocked"
    template = _(
        "This person missed %(count)d appointments in 90 days and may book again from %(until)s."
    )


class ReferralUnusable(BookingRefused):
    code = "referral_unusable"
    template = _("This referral cannot be used for this time: %(why)s.")


class HoldExpired(BookingRefused):
    code = "hold_expired"
    template = _("Your hold on this time ran out and the place has gone. Choose another time.")


class HoldNotYours(BookingRefused):
    code = "hold_not_yours"
    template = _("This hold belongs to another booking.")


class CancelTooLate(BookingRefused):
    code = "cancel_too_late"
    template = _(
        "Appointments can be cancelled until %(hours)d hours before they start. "
        "Please call the hospital."
    )


class IllegalTransition(BookingRefused):
    code = "illegal_transition"
    template = _("An appointment that is %(old)s cannot become %(new)s.")


class NotOnTheDay(BookingRefused):
    code = "not_on_the_day"
    template = _("Check-in opens on the day of the appointment.")


class OnlineNoDesk(BookingRefused):
    code = "online_no_desk"
    template = _(
        "This is an online consultation: the patient joins it from their phone or computer, "
        "not at the desk."
    )


class CalledMeanwhile(BookingRefused):
    code = "called_meanwhile"
    template = _(
        "%(number)s was just called (a second click, or another screen). Press Call next again "
        "to call the next patient."
    )


class NoShowTooEarly(BookingRefused):
    code = "too_early"
    template = _("An appointment can be marked as missed only once it has begun.")


class PlacesLeft(BookingRefused):
    code = "places_left"
    template = _("This time still has places: book it instead of waiting.")


class AlreadyWaiting(BookingRefused):
    code = "already_waiting"
    template = _("This person is already on this time's waiting list.")


# --- Helpers --------------------------------------------------------------------------------


def slot_local_day(slot: Slot) -> dt.date:
    return slot.start.astimezone(slot.site.zone).date()


def _active(patient: Patient, ignore: Appointment | None):
    qs = Appointment.objects.filter(patient=patient, status__in=ACTIVE_STATUSES)
    if ignore is not None:
        qs = qs.exclude(pk=ignore.pk)
    return qs


def _day_bounds(slot: Slot) -> tuple[dt.datetime, dt.datetime]:
    zone = slot.site.zone
    day = slot_local_day(slot)
    begin = dt.datetime.combine(day, dt.time.min).replace(tzinfo=zone)
    return begin, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min).replace(tzinfo=zone)


# --- The slot ---------------------------------------------------------------------------------


def check_slot_open(*, slot: Slot, now: dt.datetime, referral: bool = False) -> None:
    """Closed, started or not released yet (for the pool asked for)."""
    if slot.closed_at is not None:
        raise SlotClosed()
    if now >= slot.start:
        raise SlotStarted()
    opens = min(slot.release_at, slot.referral_release_at) if referral else slot.release_at
    if now < opens:
        raise NotReleasedYet(opens_at=opens)


# --- The person and the account ------------------------------------------------------------


def check_may_book_for(*, patient: Patient, account: Any) -> None:
    if not (
        PatientLink.objects.live().filter(patient=patient, account=account, can_book=True).exists()
    ):
        raise PatientNotLinked()


def check_consent(*, patient: Patient) -> None:
    if not patient_has_consent(patient=patient, kind=ConsentKind.ID_AND_HEALTH_DATA):
        raise ConsentMissing()


def _nearby(patient: Patient, slot: Slot, ignore: Appointment | None) -> list[Appointment]:
    """The person's active appointments that could clash with `slot`: those starting from a
    day before it to the end of its local day. One query serves the four rules below."""
    begin, end = _day_bounds(slot)
    return list(
        _active(patient, ignore)
        .filter(
            slot__start__gte=min(begin, slot.start - dt.timedelta(days=1)),
            slot__start__lt=max(end, slot.end),
        )
        .select_related("slot")
        .only(
            "code",
            "slot_id",
            "slot__start",
            "slot__end",
            "slot__doctor_id",
            "slot__department_id",
            "slot__rule_id",
        )
    )


def check_not_booked_in_slot(
    *, patient: Patient, slot: Slot, ignore: Appointment | None = None, nearby=None
) -> None:
    nearby = _nearby(patient, slot, ignore) if nearby is None else nearby
    if any(a.slot_id == slot.pk for a in nearby):
        raise AlreadyBooked()


def check_no_overlap(
    *, patient: Patient, slot: Slot, ignore: Appointment | None = None, nearby=None
) -> None:
    nearby = _nearby(patient, slot, ignore) if nearby is None else nearby
    for other in nearby:
        if other.slot_id != slot.pk and other.slot.start < slot.end and other.slot.end > slot.start:
            raise Overlapping(code=other.code)


def _same_local_day(other: Appointment, slot: Slot) -> bool:
    begin, end = _day_bounds(slot)
    return begin <= other.slot.start < end


def check_one_per_doctor_session(
    *, patient: Patient, slot: Slot, ignore: Appointment | None = None, nearby=None
) -> None:
    """A session is the doctor's run of slots from one rota line on one local day."""
    nearby = _nearby(patient, slot, ignore) if nearby is None else nearby
    for other in nearby:
        if other.slot.doctor_id != slot.doctor_id or not _same_local_day(other, slot):
            continue
        if slot.rule_id is None or other.slot.rule_id in (None, slot.rule_id):
            raise SameDoctorSession()


def check_one_per_department_day(
    *, patient: Patient, slot: Slot, ignore: Appointment | None = None, nearby=None
) -> None:
    nearby = _nearby(patient, slot, ignore) if nearby is None else nearby
    for other in nearby:
        if other.slot.department_id == slot.department_id and _same_local_day(other, slot):
            raise SameDepartmentDay()


def _month_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    local = now.astimezone(CAP_ZONE)
    begin = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (begin + dt.timedelta(days=32)).replace(day=1)
    return begin, following


def _counted_this_month(now: dt.datetime, ignore: Appointment | None):
    begin, end = _month_bounds(now)
    qs = Appointment.objects.filter(created_at__gte=begin, created_at__lt=end).exclude(
        cancel_reason__in=NOT_THE_PATIENTS_DOING
    )
    if ignore is not None:
        qs = qs.exclude(pk=ignore.pk)
    return qs


def check_monthly_caps(
    *, account: Any, slot: Slot, now: dt.datetime, ignore: Appointment | None = None
) -> None:
    """Bookings made this month (the city's calendar) by the account, and with its verified
    phone (as recorded on each booking, whichever account held the number then). The
    hospital of the slot sets the caps."""
    hospital = slot.site
    cap = hospital.monthly_cap_per_account
    if _counted_this_month(now, ignore).filter(booked_by=account).count() >= cap:
        raise MonthlyCapAccount(cap=cap)
    phone = getattr(account, "phone", "")
    if phone and getattr(account, "phone_verified", False):
        cap = hospital.monthly_cap_per_phone
        used = _counted_this_month(now, ignore).filter(booked_phone=phone).count()
        if used >= cap:
            raise MonthlyCapPhone(cap=cap)


def check_eligibility(*, patient: Patient, slot: Slot) -> None:
    """Age on the slot's local day, in the hospital's zone; sex."""
    department = slot.department
    age = age_on(patient.birth_date, slot_local_day(slot))
    low, high = department.min_age_years, department.max_age_years
    if (low is not None and age < low) or (high is not None and age > high):
        if low is not None and high is not None:
            span = f"{low}–{high}"
        elif low is not None:
            span = f"{low}+"
        else:
            span = f"0–{high}"
        raise NotEligibleAge(range=span)
    if department.sex and patient.sex != department.sex:
        raise NotEligibleSex(sex=department.get_sex_display())


def check_no_show_block(*, patient: Patient, slot: Slot, now: dt.datetime) -> None:
    """`no_show_limit` no-shows in 90 days block this person (never the account's other
    people) for `no_show_block_days` from the last one. Closures are cancellations, never
    no-shows, so they never count."""
    hospital = slot.site
    limit = hospital.no_show_limit
    if not limit:
        return
    starts = list(
        Appointment.objects.filter(
            patient=patient, status="no_show", slot__start__gte=now - NO_SHOW_WINDOW
        )
        .order_by("-slot__start")
        .values_list("slot__start", flat=True)[:limit]
    )
    if len(starts) >= limit:
        until = starts[0] + dt.timedelta(days=hospital.no_show_block_days)
        if now < until:
            raise NoShowBlocked(count=len(starts), until=until)


def check_referral(
    *, referral: Any, patient: Patient | None, slot: Slot, now: dt.datetime, ignore=None
) -> None:
    reused_by_ignored = (
        ignore is not None
        and referral.status == "booked"
        and ignore.referral_id == referral.pk
        and now < referral.valid_until
    )
    if not reused_by_ignored:
        if now >= referral.valid_until or referral.status == "expired":
            raise ReferralUnusable(why=_("it has expired"))
        if referral.status != "issued":
            raise ReferralUnusable(why=_("it has already been used"))
    if patient is not None and referral.patient_id != patient.pk:
        raise ReferralUnusable(why=_("it was issued to another person"))
    if referral.to_hospital_id not in (slot.site_id, slot.doctor.hospital_id):
        raise ReferralUnusable(why=_("it is for another hospital"))
    if referral.to_department_id and referral.to_department_id != slot.department_id:
        raise ReferralUnusable(why=_("it is for another department"))
    if referral.to_doctor_id and referral.to_doctor_id != slot.doctor_id:
        raise ReferralUnusable(why=_("it is for another doctor"))


def check_patient_policies(
    *,
    patient: Patient,
    slot: Slot,
    account: Any,
    now: dt.datetime,
    ignore: Appointment | None = None,
    referral: Any = None,
) -> None:
    """Every rule about the person and the account, most fundamental first."""
    check_may_book_for(patient=patient, account=account)
    check_consent(patient=patient)
    if referral is not None:
        check_referral(referral=referral, patient=patient, slot=slot, now=now, ignore=ignore)
    check_eligibility(patient=patient, slot=slot)
    check_no_show_block(patient=patient, slot=slot, now=now)
    nearby = _nearby(patient, slot, ignore)
    check_not_booked_in_slot(patient=patient, slot=slot, nearby=nearby)
    check_no_overlap(patient=patient, slot=slot, nearby=nearby)
    check_one_per_doctor_session(patient=patient, slot=slot, nearby=nearby)
    check_one_per_department_day(patient=patient, slot=slot, nearby=nearby)
    check_monthly_caps(account=account, slot=slot, now=now, ignore=ignore)


# --- Status machine ------------------------------------------------------------------------

EDGES = {
    ("booked", "checked_in"),
    ("checked_in", "in_consult"),
    ("booked", "in_consult"),  # online appointments have no desk
    ("in_consult", "completed"),
    ("booked", "no_show"),
    ("booked", "cancelled"),
    ("checked_in", "cancelled"),  # the hospital or a closure only
}


def check_edge(*, appointment: Appointment, new: str) -> None:
    old = appointment.status
    if (old, new) not in EDGES:
        raise IllegalTransition(
            old=Appointment.Status(old).label, new=Appointment.Status(new).label
        )
