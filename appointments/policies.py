"""Who may book what (DESIGN.md §3): one small function per rule, each raising a typed refusal
whose `message` is translated when it is read (so a page shows it in the reader's language).

Every policy takes the appointment it ignores (`ignore=`): a reschedule does not compete with
the appointment it replaces.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, IntegerField, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from appointments import fixed_sql
from appointments.errors import (
    AlreadyBooked,
    ConsentMissing,
    IllegalTransition,
    MonthlyCapAccount,
    MonthlyCapPhone,
    NoShowBlocked,
    NotEligibleAge,
    NotEligibleSex,
    NotReleasedYet,
    Overlapping,
    PatientNotLinked,
    ReferralUnusable,
    SameDepartmentDay,
    SameDoctorSession,
    SlotClosed,
    SlotStarted,
)
from appointments.models import ACTIVE_STATUSES, Appointment, Slot
from appointments.selectors.booking_facts import booking_facts_read
from records.models import ConsentKind, Patient, age_on
from records.selectors import (
    account_acts_for,
    patient_consents_live,
    patient_has_consent,
    patient_links_for_account,
)

NO_SHOW_WINDOW = dt.timedelta(days=90)
CAP_ZONE = ZoneInfo("Asia/Shanghai")  # months are counted on the city's calendar
# Cancellations that were not the patient's doing never count against them.
NOT_THE_PATIENTS_DOING = ("hospital", "closure", "rescheduled")


# --- Helpers --------------------------------------------------------------------------------


def slot_local_day(slot: Slot) -> dt.date:
    return slot.site.local_date(slot.start)


def _active(patient: Patient, ignore: Appointment | None):
    qs = Appointment.objects.filter(patient=patient, status__in=ACTIVE_STATUSES)
    if ignore is not None:
        qs = qs.exclude(pk=ignore.pk)
    return qs


def _day_bounds(slot: Slot) -> tuple[dt.datetime, dt.datetime]:
    return slot.site.local_day_bounds(slot_local_day(slot))


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
    if not account_acts_for(account=account, patient=patient, can_book=True):
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
    if account is None:  # booked by staff for a person no account manages: no account caps
        return
    hospital = slot.site
    cap = hospital.monthly_cap_per_account
    mine = Q(cap_account=account) | Q(cap_account__isnull=True, booked_by=account)
    if _counted_this_month(now, ignore).filter(mine).count() >= cap:
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
    on_visit: Appointment | None = None,
    by_staff: bool = False,
) -> None:
    """Every rule about the person and the account, most fundamental first. `by_staff`: staff
    book for the person (a remote consultation on a visit, a family-doctor team), `account` is
    the person's managing account, and it need not hold a link that books. `on_visit`: staff
    book during the person's visit (the visit is their right to book, and overlapping it is no
    clash), and `account` is the person's managing account, whose caps count (None when no
    account manages them)."""
    if on_visit is None and not by_staff:
        check_may_book_for(patient=patient, account=account)
    check_consent(patient=patient)
    if referral is not None:
        check_referral(referral=referral, patient=patient, slot=slot, now=now, ignore=ignore)
    check_eligibility(patient=patient, slot=slot)
    check_no_show_block(patient=patient, slot=slot, now=now)
    nearby = _nearby(patient, slot, ignore or on_visit)
    check_not_booked_in_slot(patient=patient, slot=slot, nearby=nearby)
    check_no_overlap(patient=patient, slot=slot, nearby=nearby)
    check_one_per_doctor_session(patient=patient, slot=slot, nearby=nearby)
    check_one_per_department_day(patient=patient, slot=slot, nearby=nearby)
    check_monthly_caps(account=account, slot=slot, now=now, ignore=ignore)


def _total(queryset) -> Coalesce:
    """The number of rows of `queryset`, as a subquery (no GROUP BY: the constant is not one)."""
    return Coalesce(
        Subquery(
            queryset.order_by()
            .annotate(one=Value(1))
            .values("one")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
        Value(0),
        output_field=IntegerField(),
    )


def slot_locked_with_facts(
    *, patient: Patient, slot: Slot, account: Any, now: dt.datetime
) -> tuple[Slot, tuple] | None:
    """The usual booking's first statement on PostgreSQL: the slot's row locked (FOR NO KEY
    UPDATE, the lock order's first) and read with its site, doctor and department, and the
    facts `slot_checked_for_booking` judges, in one round trip; None elsewhere (lock with
    `slot_lock`, and the facts are read after). Raises Slot.DoesNotExist."""
    if not fixed_sql.postgresql():
        return None
    phone = account.phone if getattr(account, "phone_verified", False) else ""
    return _facts_fixed(
        patient=patient, slot=slot, account=account, phone=phone, now=now, lock=True
    )


def slot_checked_for_booking(
    *,
    patient: Patient,
    slot: Slot,
    account: Any,
    now: dt.datetime,
    known: tuple[Slot, tuple] | None = None,
) -> Slot:
    """`check_patient_policies` for the usual booking (no referral, nothing replaced) in one
    read: the slot with its site, doctor and department, and beside it whether the account
    may book for the person, the consent, any active appointment of the person near the slot,
    the no-shows and the month's bookings (or `known`, what `slot_locked_with_facts` read
    with the lock). When every fact is clearly fine the booking goes on; on any doubt the
    rules run one by one and raise the precise refusal. The caller holds the slot's lock.
    Returns the slot, loaded."""
    phone = account.phone if getattr(account, "phone_verified", False) else ""
    if known is not None:
        loaded, facts = known
    elif fixed_sql.postgresql():
        loaded, facts = _facts_fixed(
            patient=patient, slot=slot, account=account, phone=phone, now=now
        )
    else:
        loaded, facts = _facts_orm(
            patient=patient, slot=slot, account=account, phone=phone, now=now
        )
    may_book, consented, near, no_shows, by_account, by_phone = facts
    site = loaded.site
    clear = (
        may_book
        and consented
        and not near
        and not (site.no_show_limit and no_shows >= site.no_show_limit)
        and by_account < site.monthly_cap_per_account
        and by_phone < site.monthly_cap_per_phone
    )
    if clear:
        check_eligibility(patient=patient, slot=loaded)
    else:
        check_patient_policies(patient=patient, slot=loaded, account=account, now=now)
    return loaded


def _near_window(slot: Slot) -> tuple[dt.datetime, dt.datetime]:
    # Wider than any rule's window: whatever is found here is judged by the rules.
    return slot.start - dt.timedelta(days=1), max(slot.start + dt.timedelta(days=1), slot.end)


def _facts_orm(*, patient, slot, account, phone, now) -> tuple[Slot, tuple]:
    month = _counted_this_month(now, None)
    near_from, near_to = _near_window(slot)
    mine = Q(cap_account=account) | Q(cap_account__isnull=True, booked_by=account)
    loaded = (
        Slot.objects.select_related("site", "doctor__user", "department")
        .annotate(
            may_book=Exists(
                patient_links_for_account(account=account, patient=patient, can_book=True)
            ),
            consented=Exists(
                patient_consents_live(patient=patient, kind=ConsentKind.ID_AND_HEALTH_DATA)
            ),
            near=Exists(
                _active(patient, None).filter(slot__start__gte=near_from, slot__start__lt=near_to)
            ),
            no_shows=_total(
                Appointment.objects.filter(
                    patient=patient, status="no_show", slot__start__gte=now - NO_SHOW_WINDOW
                )
            ),
            by_account=_total(month.filter(mine)),
            by_phone=_total(month.filter(booked_phone=phone))
            if phone
            else Value(0, output_field=IntegerField()),
        )
        .get(pk=slot.pk)
    )
    facts = (
        loaded.may_book,
        loaded.consented,
        loaded.near,
        loaded.no_shows,
        loaded.by_account,
        loaded.by_phone,
    )
    return loaded, facts


def _facts_fixed(*, patient, slot, account, phone, now, lock=False) -> tuple[Slot, tuple]:
    # The window of `_near_window`, worked out in the statement from the slot's own row (the
    # caller may hold only the slot's id, as a promotion from the waiting list does).
    month_from, month_to = _month_bounds(now)
    return booking_facts_read(
        slot_id=slot.pk,
        parameters={
            "patient": patient.pk,
            "account": account.pk,
            "consent": ConsentKind.ID_AND_HEALTH_DATA.value,
            "active": list(ACTIVE_STATUSES),
            "no_shows_from": now - NO_SHOW_WINDOW,
            "month_from": month_from,
            "month_to": month_to,
            "not_counted": list(NOT_THE_PATIENTS_DOING),
            "phone": phone,
        },
        lock=lock,
    )


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
