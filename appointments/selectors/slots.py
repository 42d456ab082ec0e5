"""Reads of bookable time: what a patient may book now, a doctor's next free periods and grid
of periods, one slot for the booking pages, and the choices of a reschedule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts.models import User
from appointments import fixed_sql
from appointments.models import Appointment, Mode, Slot
from hospitals.models import Department, Doctor, Hospital
from hospitals.selectors import doctors_active

# The modes a patient books and searches by themselves. A remote consultation's periods are
# booked by clinic staff on a visit, never by the public: every public read and
# NextFreePeriod (one row per doctor and public mode) take the rule from here.
PUBLIC_MODES: tuple[str, ...] = tuple(mode for mode in Mode.values if mode != Mode.REMOTE)


def slots_public() -> QuerySet[Slot]:
    """Slots of active doctors at active sites: what the public pages and the FHIR API show."""
    return Slot.objects.filter(doctor__is_active=True, site__is_active=True, mode__in=PUBLIC_MODES)


def slot_open_condition(*, now: dt.datetime) -> Q:
    """Released, not started and not closed at `now`."""
    return Q(release_at__lte=now, start__gt=now, closed_at__isnull=True)


def slot_place_condition(*, now: dt.datetime) -> Q:
    """A public place left, counting the unused referral places merged into the public pool."""
    return Q(booked__lt=F("capacity")) | Q(
        referral_merge_at__lte=now,
        referral_booked__lt=F("referral_capacity"),
    )


def slot_bookable_condition(*, now: dt.datetime) -> Q:
    """What `slots_bookable` asks, as plain conditions (the FHIR API's "free" too): open, a
    public place left, in a public mode (`PUBLIC_MODES`)."""
    return slot_open_condition(now=now) & slot_place_condition(now=now) & Q(mode__in=PUBLIC_MODES)


def slots_bookable(*, now: dt.datetime | None = None) -> QuerySet[Slot]:
    """Slots with a public place a patient may take now (DESIGN.md §3), honouring the merge
    of unused referral places into the public pool."""
    now = now or timezone.now()
    return Slot.objects.filter(slot_bookable_condition(now=now))


def next_free_periods(*, doctors: Iterable[Doctor]) -> dict[int, Slot]:
    """Each doctor's next bookable public slot, in one query (the directory shows it)."""
    doctor_ids = [doctor.pk for doctor in doctors]
    if not doctor_ids:
        return {}
    ranked = (
        slots_bookable()
        .filter(doctor_id__in=doctor_ids)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("doctor_id")], order_by=[F("start"), F("mode")]
            )
        )
        .filter(rank=1)
        .select_related("site")
    )
    now = timezone.now()
    periods = {}
    for slot in ranked:
        # hospitals.signals.FreePeriod: the directory reads .start, .end and .places_left.
        slot.places_left = slot.public_places_left(now=now)
        periods[slot.doctor_id] = slot
    return periods


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
    return doctors_active().filter(pk=pk).first()


def doctor_grid(
    *, doctor: Doctor, days: int = GRID_DAYS, now: dt.datetime | None = None
) -> list[GridDay]:
    """The doctor's periods from now over `days` days, grouped by local day at each slot's
    site, in one query. Days without a session are left out."""
    now = now or timezone.now()
    until = now + dt.timedelta(days=days)
    slots = (
        _grid_slots_fixed(doctor_id=doctor.pk, now=now, until=until)
        if fixed_sql.postgresql()
        else _grid_slots_orm(doctor_id=doctor.pk, now=now, until=until)
    )
    grid: dict[dt.date, GridDay] = {}
    for slot in slots:
        local_day = timezone.localtime(slot.start, slot.site.zone).date()
        grid.setdefault(local_day, GridDay(day=local_day)).periods.append(period_of(slot, now=now))
    return list(grid.values())


def _grid_slots_orm(*, doctor_id: int, now: dt.datetime, until: dt.datetime) -> list[Slot]:
    return list(
        Slot.objects.filter(doctor_id=doctor_id, start__gt=now, start__lt=until)
        .select_related("site")
        .order_by("start", "mode")
    )


def _grid_slots_fixed(*, doctor_id: int, now: dt.datetime, until: dt.datetime) -> list[Slot]:
    """The grid's read as fixed text, its rows in binary, each site built once: through the
    ORM two weeks of a doctor's periods (140 rows) cost 6.7 ms of CPU, half of it building two
    models a row and parsing seven timestamps a row from text in Python (bench/slot_search.py,
    docs/scaling.md). tests/appointments/test_fixed_sql.py holds it equal to the ORM's."""
    rows = fixed_sql.run(
        _grid_sql(), {"doctor": doctor_id, "now": now, "until": until}, binary=True
    )
    at = fixed_sql.width(Slot)
    sites: dict[int, Hospital] = {}
    slots = []
    for row in rows:
        slot = fixed_sql.loaded(Slot, row)
        site = sites.get(slot.site_id)
        if site is None:
            site = sites[slot.site_id] = fixed_sql.loaded(Hospital, row, at)
        slot.site = site
        slots.append(slot)
    return slots


@cache
def _grid_sql() -> str:
    # Only column lists of the models are joined in; values go as parameters.
    return f"""
SELECT {fixed_sql.columns(Slot, "s")}, {fixed_sql.columns(Hospital, "h")}
FROM appointments_slot s JOIN hospitals_hospital h ON h.id = s.site_id
WHERE s.doctor_id = %(doctor)s AND s.start > %(now)s AND s.start < %(until)s
ORDER BY s.start, s.mode
"""  # noqa: S608


def slot_public(*, pk: int) -> Slot | None:
    """A slot of an active doctor at an active site, with what the confirmation page and the
    FHIR Slot show (its doctor and the doctor's hospital, its site, its department), or None.
    Every booking request starts here: fixed SQL on PostgreSQL (appointments.fixed_sql)."""
    if not fixed_sql.postgresql():
        return (
            slots_public()
            .select_related("doctor", "doctor__hospital", "site", "department")
            .filter(pk=pk)
            .first()
        )
    rows = fixed_sql.run(_slot_public_sql(), {"pk": pk, "modes": list(PUBLIC_MODES)})
    if not rows:
        return None
    return slot_with_relations(rows[0], doctor_hospital=True)


@cache
def _slot_public_sql() -> str:
    # Only column lists of the models are joined in; values go as parameters.
    return f"""
SELECT {slot_relations_columns()}, {fixed_sql.columns(Hospital, "dh")}
{SLOT_RELATIONS_FROM}
JOIN hospitals_hospital dh ON dh.id = d.hospital_id
WHERE s.id = %(pk)s AND d.is_active AND h.is_active AND s.mode = ANY(%(modes)s)
"""


# The slot (s) with its site (h), doctor (d), department (dep) and the doctor's account (u),
# for the fixed reads of the booking (slot_public, appointments.services.places.slot_lock,
# selectors/booking_facts.py). PostgreSQL drops the outer join when `u` is not selected.
SLOT_RELATIONS_FROM = """FROM appointments_slot s
JOIN hospitals_hospital h ON h.id = s.site_id
JOIN hospitals_doctor d ON d.id = s.doctor_id
JOIN hospitals_department dep ON dep.id = s.department_id
LEFT JOIN accounts_user u ON u.id = d.user_id"""


def _relations(user: bool) -> tuple:
    models = ((Slot, "s"), (Hospital, "h"), (Doctor, "d"), (Department, "dep"))
    return (*models, (User, "u")) if user else models


@cache
def slot_relations_columns(*, user: bool = False) -> str:
    """The columns `slot_with_relations` reads, from SLOT_RELATIONS_FROM's aliases (the
    doctor's account too when `user`)."""
    return ", ".join(fixed_sql.columns(model, alias) for model, alias in _relations(user))


def slot_relations_width(*, user: bool = False) -> int:
    """How many columns `slot_relations_columns(user=user)` selects."""
    return sum(fixed_sql.width(model) for model, _alias in _relations(user))


def slot_with_relations(row: tuple, *, user: bool = False, doctor_hospital: bool = False) -> Slot:
    """The slot of a row that starts with `slot_relations_columns(user=user)`, its site, doctor
    (with the doctor's account when `user`) and department attached, and the doctor's hospital
    from the columns after them when `doctor_hospital`."""
    slot = fixed_sql.loaded(Slot, row)
    at = fixed_sql.width(Slot)
    slot.site = fixed_sql.loaded(Hospital, row, at)
    at += fixed_sql.width(Hospital)
    doctor = fixed_sql.loaded(Doctor, row, at)
    at += fixed_sql.width(Doctor)
    slot.department = fixed_sql.loaded(Department, row, at)
    at += fixed_sql.width(Department)
    if user:
        doctor.user = fixed_sql.loaded(User, row, at)
        at += fixed_sql.width(User)
    if doctor_hospital:
        doctor.hospital = fixed_sql.loaded(Hospital, row, at)
    slot.doctor = doctor
    return slot


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


def remote_periods_bookable(
    *, department_id: int | None = None, now: dt.datetime | None = None
) -> QuerySet[Slot]:
    """The cloud hospital's remote-consultation periods a clinic doctor may book now (released,
    not started, not closed, a place left), soonest first, with their doctor and department;
    of one department when asked."""
    now = now or timezone.now()
    periods = Slot.objects.filter(
        slot_open_condition(now=now) & slot_place_condition(now=now),
        mode=Mode.REMOTE,
        site__kind=Hospital.Kind.CLOUD,
        site__is_active=True,
        doctor__is_active=True,
    )
    if department_id is not None:
        periods = periods.filter(department_id=department_id)
    return periods.select_related("doctor", "department", "site").order_by("start", "pk")
