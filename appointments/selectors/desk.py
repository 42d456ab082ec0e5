"""Reads behind the front desk (issue 8): the hospitals a desk works for and its lookup by code,
the day's queue per doctor at a desk's hospital, the waiting-room display of a site (with masked
names), and a doctor's own queue. Each is one or two queries whatever the number of patients."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from appointments.models import Appointment, DeskQueue, Mode
from hospitals.models import Hospital, StaffMembership


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


def masked_name(name: str) -> str:
    """张*明 / 张* / Z*******g: what a waiting room may read of a patient's name."""
    name = "".join(name.split())
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


class QueueState:
    NOT_ARRIVED = "not_arrived"
    WAITING = "waiting"
    CALLED = "called"
    IN_VISIT = "in_visit"
    DONE = "done"
    MISSED = "missed"


_BY_STATUS = {
    Appointment.Status.BOOKED: QueueState.NOT_ARRIVED,
    Appointment.Status.IN_CONSULT: QueueState.IN_VISIT,
    Appointment.Status.COMPLETED: QueueState.DONE,
    Appointment.Status.NO_SHOW: QueueState.MISSED,
}


def queue_state(appointment: Appointment) -> str:
    if appointment.status == Appointment.Status.CHECKED_IN:
        return QueueState.CALLED if appointment.called_at else QueueState.WAITING
    return _BY_STATUS.get(appointment.status, QueueState.NOT_ARRIVED)


def _call_order(appointment: Appointment) -> tuple:
    """The order `queue_call_next` calls in: booked time, then number."""
    return (appointment.slot.start, appointment.queue_number or 0, appointment.pk)


def _day_bounds(hospital: Hospital, now: dt.datetime) -> tuple[dt.date, dt.datetime, dt.datetime]:
    day = hospital.local_date(now)
    return day, *hospital.local_day_bounds(day)


@dataclass
class DoctorQueue:
    """One doctor's in-person patients of the day at one hospital, in call order."""

    doctor: object
    rows: list[Appointment] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for row in self.rows if row.queue_state == state)

    @property
    def counts(self) -> dict[str, int]:
        return {
            state: self.count(state)
            for state in (
                QueueState.WAITING,
                QueueState.CALLED,
                QueueState.IN_VISIT,
                QueueState.DONE,
                QueueState.NOT_ARRIVED,
            )
        }


_ROW_ORDER = {
    QueueState.IN_VISIT: 0,
    QueueState.CALLED: 1,
    QueueState.WAITING: 2,
    QueueState.NOT_ARRIVED: 3,
    QueueState.DONE: 4,
    QueueState.MISSED: 5,
}


def desk_queue_board(*, hospital: Hospital, now: dt.datetime | None = None) -> list[DoctorQueue]:
    """Today's in-person appointments at the hospital (cancelled ones left out), grouped by
    doctor: with the doctor now, called, waiting in call order, not arrived, done. One query."""
    now = now or timezone.now()
    _day, start, end = _day_bounds(hospital, now)
    appointments = (
        Appointment.objects.filter(
            slot__site=hospital,
            slot__mode=Mode.IN_PERSON,
            slot__start__gte=start,
            slot__start__lt=end,
        )
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("patient", "slot", "slot__doctor", "slot__department", "queue")
    )
    by_doctor: dict[int, DoctorQueue] = {}
    for appointment in appointments:
        appointment.queue_state = queue_state(appointment)
        doctor = appointment.slot.doctor
        by_doctor.setdefault(doctor.pk, DoctorQueue(doctor=doctor)).rows.append(appointment)
    for line in by_doctor.values():
        line.rows.sort(key=lambda a: (_ROW_ORDER[a.queue_state], *_call_order(a)))
    return sorted(by_doctor.values(), key=lambda line: (line.doctor.name, line.doctor.pk))


@dataclass
class DisplayLine:
    """What the waiting room sees of one doctor's queue: the number called last (with the
    masked name) and the next numbers. Never a full name, never an ID number."""

    queue: DeskQueue
    calling: str = ""
    calling_name: str = ""
    called_at: dt.datetime | None = None
    upcoming: list[str] = field(default_factory=list)
    waiting: int = 0


DISPLAY_UPCOMING = 5


def display_board(*, hospital: Hospital, now: dt.datetime | None = None) -> list[DisplayLine]:
    """Every doctor's queue at the site today, in letter order. Two queries."""
    now = now or timezone.now()
    day, _start, _end = _day_bounds(hospital, now)
    appointments = (
        Appointment.objects.exclude(status=Appointment.Status.CANCELLED)
        .select_related("patient", "slot")
        .order_by("pk")
    )
    queues = (
        DeskQueue.objects.filter(site=hospital, day=day)
        .select_related("doctor", "doctor__department")
        .prefetch_related(Prefetch("appointments", queryset=appointments, to_attr="day_rows"))
        .order_by("letter", "pk")
    )
    lines = []
    for queue in queues:
        line = DisplayLine(queue=queue)
        for row in queue.day_rows:
            row.queue = queue  # the label needs it: no query per row
        called = [row for row in queue.day_rows if row.called_at is not None]
        if called:
            last = max(called, key=lambda row: (row.called_at, row.pk))
            line.calling = last.queue_label
            line.calling_name = masked_name(last.patient.name)
            line.called_at = last.called_at
        waiting = sorted(
            (
                row
                for row in queue.day_rows
                if row.status == Appointment.Status.CHECKED_IN and row.called_at is None
            ),
            key=_call_order,
        )
        line.waiting = len(waiting)
        line.upcoming = [row.queue_label for row in waiting[:DISPLAY_UPCOMING]]
        lines.append(line)
    return lines


def doctor_queue_today(*, doctor, now: dt.datetime | None = None) -> dict:
    """For the doctor's day: how many of their checked-in patients wait, and who was called
    last (number and full name: the doctor may read it). One query."""
    now = now or timezone.now()
    day = now.astimezone(doctor.hospital.zone).date()
    # Every numbered appointment of the day: "called last" means the same here as in
    # queue_call_next's check of what the page showed, whatever became of that patient since.
    rows = list(
        Appointment.objects.filter(queue__doctor=doctor, queue__day=day).select_related(
            "queue", "patient"
        )
    )
    called = [row for row in rows if row.called_at is not None]
    return {
        "waiting": sum(1 for row in rows if row.status == "checked_in" and row.called_at is None),
        "current": max(called, key=lambda row: (row.called_at, row.pk)) if called else None,
    }
