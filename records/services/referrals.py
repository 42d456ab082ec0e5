"""Referrals issued from an encounter, and the access they give the receiving doctors until they
are booked, completed, cancelled or expire."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hospitals.models import Department, Doctor, Hospital
from records.errors import clinical_refusal
from records.models import CareRelationship, Encounter, Referral
from records.services.care import care_relationship_end, care_relationship_grant
from records.services.encounters import AFTER_CARE, clinical_audit, encounter_require_writable


def referral_valid_days() -> int:
    return int(getattr(settings, "REFERRAL_VALID_DAYS", 30))


def _referral_receivers(referral: Referral) -> list[Any]:
    """Who reads the record because of the referral: the named doctor, else the doctors of
    the named department, else nobody until the booking names one."""
    if referral.to_doctor_id:
        doctors = Doctor.objects.filter(pk=referral.to_doctor_id)
    elif referral.to_department_id:
        doctors = Doctor.objects.filter(department_id=referral.to_department_id, is_active=True)
    else:
        return []
    return [doctor.user for doctor in doctors.select_related("user") if doctor.user_id]


def referral_issue(
    *,
    encounter: Encounter,
    by: Any,
    to_hospital: Hospital,
    to_department: Department | None = None,
    to_doctor: Doctor | None = None,
    reason: str = "",
) -> Referral:
    """Refer the encounter's patient to a hospital or clinic (optionally a department or a
    doctor there), valid for REFERRAL_VALID_DAYS; the receiving doctor(s) may read the record
    until it is valid + 7 days."""
    reason = (reason or "").strip()
    if not reason:
        raise clinical_refusal(_("Say why you refer the patient."), "reason")
    if len(reason) > 300:
        raise clinical_refusal(_("Keep the reason under 300 characters."), "reason")
    if not to_hospital.is_active:
        raise clinical_refusal(_("Choose a hospital that is open."), "hospital")
    if to_department is not None and to_department.hospital_id != to_hospital.pk:
        raise clinical_refusal(_("Choose a department of that hospital."), "department")
    if to_doctor is not None and (
        to_doctor.hospital_id != to_hospital.pk
        or (to_department is not None and to_doctor.department_id != to_department.pk)
    ):
        raise clinical_refusal(_("Choose a doctor of that hospital and department."), "doctor")
    with transaction.atomic():
        encounter = encounter_require_writable(encounter, by=by)
        now = timezone.now()
        referral = Referral.objects.create(
            patient=encounter.patient,
            to_hospital=to_hospital,
            to_department=to_department,
            to_doctor=to_doctor,
            reason=reason,
            encounter=encounter,
            issued_by=by,
            issued_at=now,
            valid_until=now + dt.timedelta(days=referral_valid_days()),
        )
        receivers = _referral_receivers(referral)
        for user in receivers:
            care_relationship_grant(
                patient=encounter.patient,
                user=user,
                reason=CareRelationship.Reason.REFERRAL,
                until=referral.valid_until + AFTER_CARE,
                source=referral,
            )
        clinical_audit(
            by,
            "referral.issue",
            referral,
            encounter.patient,
            encounter=encounter.pk,
            to_hospital=to_hospital.pk,
            to_department=getattr(to_department, "pk", None),
            to_doctor=getattr(to_doctor, "pk", None),
            receivers=len(receivers),
        )
    return referral


def referral_cancel(*, referral: Referral, by: Any) -> Referral:
    """The issuing doctor withdraws a referral nobody has booked yet: it can no longer be
    booked, and the receivers' access from it ends at once (their own appointments, if any,
    keep theirs)."""
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update().select_related("patient").get(pk=referral.pk)
        )
        if by is None or referral.issued_by_id != by.pk:
            raise clinical_refusal(
                _("Only the doctor who issued the referral can cancel it."), "not_yours"
            )
        if referral.status != Referral.Status.ISSUED:
            raise clinical_refusal(
                _("This referral is booked or done already; it can no longer be cancelled."),
                "not_issued",
            )
        referral.status = Referral.Status.CANCELLED
        referral.save(update_fields=["status"])
        care_relationship_end(source=referral, by=by)
        clinical_audit(
            by,
            "referral.cancel",
            referral,
            referral.patient,
            **{"from": Referral.Status.ISSUED, "to": Referral.Status.CANCELLED},
        )
    return referral


def referral_complete(*, referral: Referral, by: Any = None) -> Referral:
    """The referral's appointment was completed (called by appointments). The receivers keep
    reading for AFTER_CARE from now (not longer than the referral first allowed)."""
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update().select_related("patient").get(pk=referral.pk)
        )
        if referral.status in (Referral.Status.ISSUED, Referral.Status.BOOKED):
            old = referral.status
            referral.status = Referral.Status.COMPLETED
            referral.save(update_fields=["status"])
            care_relationship_end(source=referral, at=timezone.now() + AFTER_CARE, by=by)
            clinical_audit(
                by,
                "referral.complete",
                referral,
                referral.patient,
                **{"from": old, "to": Referral.Status.COMPLETED},
            )
    return referral


def expire_referrals(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Mark every issued referral past its validity as expired, and end the access it gave at
    once; returns how many. Booked ones run their course (the appointment completes or is
    cancelled). Running it twice changes nothing the second time."""
    now = now or timezone.now()
    done = 0
    while True:
        with transaction.atomic():
            due = list(
                Referral.objects.select_for_update(skip_locked=True)
                .select_related("patient")
                .filter(status=Referral.Status.ISSUED, valid_until__lte=now)
                .order_by("pk")[:batch]
            )
            if not due:
                break
            Referral.objects.filter(pk__in=[r.pk for r in due]).update(
                status=Referral.Status.EXPIRED
            )
            for referral in due:
                care_relationship_end(source=referral)
                clinical_audit(
                    None,
                    "referral.expire",
                    referral,
                    referral.patient,
                    **{"from": Referral.Status.ISSUED, "to": Referral.Status.EXPIRED},
                )
            done += len(due)
    return done
