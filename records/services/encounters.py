"""Encounters: opened at check-in or when a consult goes live, closed when it ends; and the checks
every clinical write starts with.

Who may write: the encounter's own doctor (`encounter.doctor.user`), and only while the
encounter is open. Higher apps call in (DESIGN.md §2): appointments opens an in-person
encounter at check-in and closes it on completion; telemedicine opens an online one when the
consult goes live and closes it when the consult ends. Records never imports them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from hospitals.models import Department, Doctor, Hospital
from records.access import doctor_hospital_ids
from records.errors import CLOSED, NOT_YOURS, ClinicalRefused, clinical_refusal
from records.models import CareRelationship, Encounter, EncounterParticipant, Patient
from records.selectors import is_encounter_doctor
from records.services.care import care_relationship_end, care_relationship_grant

# A doctor keeps reading the record this long after the encounter (or the referral) ends.
AFTER_CARE = dt.timedelta(days=7)
# An encounter nobody closes stops granting access after this long.
OPEN_ENCOUNTER_GRANT = dt.timedelta(days=30)


def encounter_lock(encounter: Encounter) -> Encounter:
    return (
        Encounter.objects.select_for_update(of=("self",))
        .select_related("doctor", "patient", "hospital")
        .get(pk=encounter.pk)
    )


def encounter_require_writable(encounter: Encounter, *, by: Any) -> Encounter:
    """Lock the encounter and check that `by` is its doctor and it is open."""
    encounter = encounter_lock(encounter)
    if not is_encounter_doctor(encounter=encounter, account=by):
        raise clinical_refusal(NOT_YOURS, "not_yours")
    if not encounter.is_open:
        raise clinical_refusal(CLOSED, "closed")
    return encounter


def clinical_full_clean(row: Any, *, exclude: list[str]) -> None:
    """Model validation (lengths, the ICD-10 pattern) as a ClinicalRefused."""
    try:
        row.full_clean(exclude=exclude)
    except ValidationError as error:
        raise ClinicalRefused(error.messages, code="invalid") from None


def clinical_audit(by: Any, action: str, target: Any, patient: Patient, **data: Any) -> None:
    audit_record(actor=by, action=action, target=target, on_behalf_of=patient, data=data or None)


# --- Encounters -----------------------------------------------------------------------------


def encounter_open(
    *,
    patient: Patient,
    doctor: Doctor,
    mode: str,
    site: Hospital | None = None,
    department: Department | None = None,
    by: Any = None,
) -> Encounter:
    """Open an encounter of `doctor` with `patient` and let the doctor read the record while it
    is open. `site` is where it happens; the encounter is written at the site when the doctor
    works there, otherwise at the doctor's own hospital (which decides who sees the rows)."""
    if mode not in Encounter.Mode.values:
        raise ValueError(f"unknown encounter mode {mode!r}")
    hospital_id = doctor.hospital_id
    if site is not None and doctor.user_id and site.pk in doctor_hospital_ids(doctor.user):
        hospital_id = site.pk
    with transaction.atomic():
        encounter = Encounter.objects.create(
            patient=patient,
            doctor=doctor,
            hospital_id=hospital_id,
            department=department or doctor.department,
            mode=mode,
        )
        if doctor.user_id:
            care_relationship_grant(
                patient=patient,
                user=doctor.user,
                reason=CareRelationship.Reason.ENCOUNTER,
                until=encounter.started_at + OPEN_ENCOUNTER_GRANT,
                source=encounter,
            )
        clinical_audit(by, "encounter.open", encounter, patient, mode=mode, doctor=doctor.pk)
    return encounter


def encounter_close(*, encounter: Encounter, by: Any = None) -> Encounter:
    """Close an open encounter (a closed one is left as it is). The doctor's access from this
    encounter then runs AFTER_CARE more; another open encounter keeps its own."""
    with transaction.atomic():
        encounter = encounter_lock(encounter)
        if not encounter.is_open:
            return encounter
        now = timezone.now()
        encounter.status = Encounter.Status.CLOSED
        encounter.ended_at = now
        encounter.save(update_fields=["status", "ended_at"])
        # Only this encounter's grant winds down: another open encounter of the same doctor
        # with the person has its own.
        care_relationship_end(source=encounter, at=now + AFTER_CARE, by=by)
        clinical_audit(by, "encounter.close", encounter, encounter.patient)
    return encounter


def encounter_participant_add(
    *, encounter: Encounter, account: Any, role: str, name: str, joined_at: dt.datetime
) -> EncounterParticipant:
    """Record that `account` took part in a remote consultation's encounter, first joining at
    `joined_at` (a later join keeps the first time). The caller (telemedicine) decides who may
    take part; records keeps who did, for the consult's page in the record."""
    if role not in EncounterParticipant.Role.values:
        raise ValueError(f"unknown participant role {role!r}")
    with transaction.atomic():
        participant, created = EncounterParticipant.objects.get_or_create(
            encounter=encounter,
            account=account,
            defaults={"role": role, "name": name[:120], "joined_at": joined_at},
        )
        if created:
            clinical_audit(
                account, "encounter.participant", encounter, encounter.patient, role=role
            )
    return participant
