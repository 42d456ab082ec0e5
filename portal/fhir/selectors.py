"""Reads behind /fhir/: each returns rows with everything its builder needs, in a fixed
number of queries. Reads of people and appointments are scoped to the asking account."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from appointments import selectors as appointment_selectors
from appointments.familydoctors.models import FamilySigning
from appointments.models import Appointment, ScheduleRule, Slot
from appointments.selectors import (
    appointments_for_account,
    slot_bookable_condition,
    slot_open_condition,
    slot_place_condition,
    slots_public,
)
from hospitals.models import Doctor, Hospital
from hospitals.selectors import doctors_active, hospitals_active
from records.access import RecordAccess
from records.models import Patient, Referral, RenewalRequest
from records.selectors import patients_for_account
from records.selectors_record import RecordTimeline, record_timeline

# The public reads are the app selectors the pages use, ordered by key so the API pages by it.


def hospitals_public() -> QuerySet[Hospital]:
    return hospitals_active().order_by("pk")


def doctors_public() -> QuerySet[Doctor]:
    return doctors_active().order_by("pk")


def schedule_pairs(*, doctor_ids: list[int] | None = None) -> list[tuple[int, int]]:
    """(doctor, site) of every Schedule: each active doctor at their own hospital, and at
    every other site their rota names. Sorted, so it pages by key."""
    doctors = doctors_active()
    rules = ScheduleRule.objects.filter(doctor__is_active=True, site__is_active=True)
    if doctor_ids is not None:
        doctors = doctors.filter(pk__in=doctor_ids)
        rules = rules.filter(doctor_id__in=doctor_ids)
    pairs = set(doctors.values_list("pk", "hospital_id"))
    pairs.update(rules.values_list("doctor_id", "site_id").distinct())
    return sorted(pairs)


def schedule_exists(*, doctor_id: int, site_id: int) -> bool:
    """A Schedule a slot names always reads: the doctor's own hospital, a site of their rota,
    or a site where they have slots."""
    doctor = Doctor.objects.filter(pk=doctor_id, is_active=True).values("hospital_id").first()
    if doctor is None or not Hospital.objects.filter(pk=site_id, is_active=True).exists():
        return False
    return (
        doctor["hospital_id"] == site_id
        or ScheduleRule.objects.filter(doctor_id=doctor_id, site_id=site_id).exists()
        or Slot.objects.filter(doctor_id=doctor_id, site_id=site_id).exists()
    )


def slot_status_filter(*, statuses: list[str], now: dt.datetime) -> Q:
    """resources.slot_status as plain conditions (so the planner can use the slot indexes):
    rows whose FHIR status is any of `statuses`."""
    # The negation of slot_open_condition written out: plain conditions on indexed columns.
    unavailable = Q(closed_at__isnull=False) | Q(start__lte=now) | Q(release_at__gt=now)
    conditions = {
        "free": slot_bookable_condition(now=now),
        "busy": slot_open_condition(now=now) & ~slot_place_condition(now=now),
        "busy-unavailable": unavailable,
    }
    either = Q(pk__in=[])
    for status in statuses:
        either |= conditions[status]
    return either


@dataclass(frozen=True)
class SlotQuery:
    schedules: list[tuple[int, int]]  # empty: any
    statuses: list[str]  # empty: any
    start_filters: list[Q]


def slots_search(*, query: SlotQuery, now: dt.datetime) -> QuerySet[Slot]:
    """Slots of active doctors at active sites, by start then id, in one query."""
    slots = slots_public()
    if query.schedules:
        either = Q()
        for doctor_id, site_id in query.schedules:
            either |= Q(doctor_id=doctor_id, site_id=site_id)
        slots = slots.filter(either)
    for condition in query.start_filters:
        slots = slots.filter(condition)
    if query.statuses:
        slots = slots.filter(slot_status_filter(statuses=query.statuses, now=now))
    return slots.select_related("site", "department").order_by("start", "pk")


def slot_public(*, pk: int) -> Slot | None:
    return appointment_selectors.slot_public(pk=pk)


def appointments_of_account(*, account: Any) -> QuerySet[Appointment]:
    """The appointments of every person the account is linked to, with what the builder
    reads, in one query."""
    return appointments_for_account(account=account).select_related("referral")


def patients_of_account(*, account: Any) -> QuerySet[Patient]:
    # By key, so the list pages by it.
    return patients_for_account(account=account).order_by("pk")


def patient_linked(*, account: Any, public_id: Any, can_book: bool = False) -> Patient | None:
    patients = patients_for_account(account=account, can_book=True if can_book else None)
    return patients.filter(public_id=public_id).first()


def patient_by_public_id(*, public_id: Any) -> Patient | None:
    return Patient.objects.filter(public_id=public_id).first()


def referral_for_booking(*, patient: Patient, public_id: Any) -> Referral | None:
    return Referral.objects.filter(patient=patient, public_id=public_id).first()


@dataclass
class Everything:
    patient: Patient
    timeline: RecordTimeline
    referrals: list[Referral]
    appointments: list[Appointment]
    renewals: list[RenewalRequest] = field(default_factory=list)
    signings: list = field(default_factory=list)  # family-doctor signings (issue 20)


def patient_everything(*, access: RecordAccess) -> Everything:
    """What $everything returns: the record as this reader may see it (record_timeline), the
    referrals (also those issued without an encounter) and the appointments."""
    person = access.patient
    timeline = record_timeline(access=access)
    referrals = list(
        access.filter(
            Referral.objects.filter(patient=person), hospital_field="encounter__hospital"
        ).select_related("encounter", "to_hospital", "to_department")
    )
    appointments = list(
        access.filter(Appointment.objects.filter(patient=person), hospital_field="slot__site")
        .select_related("slot__doctor", "slot__site", "slot__department", "referral")
        .order_by("slot__start", "pk")
    )
    for item in appointments:
        item.patient = person
    renewals = list(
        access.filter(RenewalRequest.objects.filter(patient=person))
        .select_related("doctor", "prescription")
        .prefetch_related("prescription__items__drug")
        .order_by("created_at", "id")
    )
    for renewal in renewals:
        renewal.patient = person
    signings = list(
        access.filter(FamilySigning.objects.filter(patient=person), hospital_field="team__clinic")
        .select_related("team__clinic", "team__gp", "team__nurse")
        .order_by("starts_on", "pk")
    )
    for item in signings:
        item.patient = person
    return Everything(
        patient=person,
        timeline=timeline,
        referrals=referrals,
        appointments=appointments,
        renewals=renewals,
        signings=signings,
    )
