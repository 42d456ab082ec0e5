"""Stop-clinic: a closure closes the slots it covers, and the appointments in them are cancelled
(reason `closure`, never counted against the patient)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appointments.models import CLOSURE_CANCELS_STATUSES, Appointment, Closure, Slot, WaitlistEntry
from appointments.selectors.closures import closure_covered_slots
from appointments.services.next_free import next_free_periods_refresh_later
from appointments.services.status import appointment_cancel
from audit.services import audit_record
from hospitals.models import Department, Doctor, Hospital


def closure_create(
    *,
    scope: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str,
    by: Any,
    doctor: Doctor | None = None,
    department: Department | None = None,
    hospital: Hospital | None = None,
) -> Closure:
    """Stop a clinic: close every open slot of the doctor / department / site in the period,
    then, in the same transaction, cancel the appointments of those slots
    (`closure_cancel_appointments`; the patients are told on commit). Locks the covered slots
    in primary-key order before any appointment (the lock order in appointments.services)."""
    targets = {
        Closure.Scope.DOCTOR: doctor,
        Closure.Scope.DEPARTMENT: department,
        Closure.Scope.HOSPITAL: hospital,
    }
    if scope not in targets:
        raise ValidationError({"scope": _("Choose what to close.")})
    if targets[scope] is None or sum(t is not None for t in targets.values()) != 1:
        raise ValidationError({scope: _("Choose which one to close.")})
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The closure must end after it starts.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason; patients will read it.")})
    with transaction.atomic():
        closure = Closure.objects.create(
            scope=scope,
            doctor=doctor,
            department=department,
            hospital=hospital,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason.strip(),
            created_by=by if by is not None and by.is_authenticated else None,
        )
        covered = closure_covered_slots(
            scope=scope,
            starts_at=starts_at,
            ends_at=ends_at,
            doctor=doctor,
            department=department,
            hospital=hospital,
        ).select_for_update()
        # The slots first, in primary-key order, then their appointments (lock order:
        # appointments.services).
        slots = list(covered.order_by("pk").values("id", "doctor_id", "booked", "referral_booked"))
        slot_ids = [slot["id"] for slot in slots]
        Slot.objects.filter(pk__in=slot_ids).update(closed_at=timezone.now(), closure=closure)
        next_free_periods_refresh_later(doctor_ids={slot["doctor_id"] for slot in slots})
        common = {
            "closure_id": closure.pk,
            "scope": scope,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
            "reason": closure.reason,
        }
        if scope != Closure.Scope.DOCTOR:
            audit_record(
                actor=by,
                action="closure.create",
                target=targets[scope],
                data={**common, "slots_closed": len(slot_ids)},
            )
        per_doctor: dict[int, list[dict]] = {}
        for slot in slots:
            per_doctor.setdefault(slot["doctor_id"], []).append(slot)
        if scope == Closure.Scope.DOCTOR:
            per_doctor.setdefault(doctor.pk, [])
        doctors = Doctor.objects.in_bulk(list(per_doctor))
        for doctor_id, doctor_slots in sorted(per_doctor.items()):
            audit_record(
                actor=by,
                action="closure.create",
                target=doctors[doctor_id],
                data={
                    **common,
                    "slots_closed": len(doctor_slots),
                    "places_booked": sum(s["booked"] + s["referral_booked"] for s in doctor_slots),
                },
            )
        closure_cancel_appointments(closure=closure, slot_ids=slot_ids)
    return closure


def closure_cancel_appointments(*, closure: Closure, slot_ids: list[int]) -> None:
    """Cancel every appointment in the closed slots (reason `closure`, never counted against
    the patient); the waiting lists of those slots end.
    `closure_create` holds the slots' locks: the appointments are locked one after another in
    primary-key order (the lock order)."""
    for appointment in Appointment.objects.filter(
        slot_id__in=slot_ids, status__in=CLOSURE_CANCELS_STATUSES
    ).order_by("pk"):
        appointment_cancel(
            appointment=appointment,
            by=closure.created_by,
            reason=Appointment.CancelReason.CLOSURE,
            why=closure.reason,
        )
    WaitlistEntry.objects.filter(slot_id__in=slot_ids, state="waiting").update(state="expired")
