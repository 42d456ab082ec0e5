"""Reads of closures: the slots a closure would cover, how many appointments it would cancel,
and a hospital's closures."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from appointments.models import CLOSURE_CANCELS_STATUSES, Appointment, Closure, Slot
from hospitals.models import Department, Doctor, Hospital


def closure_covered_slots(
    *,
    scope: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    doctor: Doctor | None = None,
    department: Department | None = None,
    hospital: Hospital | None = None,
) -> QuerySet[Slot]:
    """Open slots a closure would close: those overlapping its period, of the doctor, of the
    department's doctors (wherever they sit, online sessions included), or held at the site."""
    slots = Slot.objects.filter(start__lt=ends_at, end__gt=starts_at, closed_at__isnull=True)
    if scope == Closure.Scope.DOCTOR:
        return slots.filter(doctor=doctor)
    if scope == Closure.Scope.DEPARTMENT:
        return slots.filter(department=department)
    return slots.filter(site=hospital)


def closure_affected_appointments_count(
    *,
    scope: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    doctor: Doctor | None = None,
    department: Department | None = None,
    hospital: Hospital | None = None,
) -> int:
    """How many appointments a closure would cancel: those `closure_cancel_appointments`
    cancels, not the places that live holds keep for a few minutes."""
    covered = closure_covered_slots(
        scope=scope,
        starts_at=starts_at,
        ends_at=ends_at,
        doctor=doctor,
        department=department,
        hospital=hospital,
    )
    return Appointment.objects.filter(slot__in=covered, status__in=CLOSURE_CANCELS_STATUSES).count()


def closures_for_hospital(*, hospital: Hospital) -> QuerySet[Closure]:
    """Closures of the hospital's doctors, departments or the hospital itself."""
    return (
        Closure.objects.filter(
            Q(hospital=hospital) | Q(department__hospital=hospital) | Q(doctor__hospital=hospital)
        )
        .select_related("doctor", "department", "hospital", "created_by")
        .order_by("-starts_at", "-id")
    )
