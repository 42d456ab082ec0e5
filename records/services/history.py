"""Allergies and standing problems, written by the doctor of an open encounter."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.errors import NOT_YOURS, clinical_refusal
from records.models import Allergy, Encounter, Problem
from records.services.encounters import (
    clinical_audit,
    clinical_full_clean,
    encounter_require_writable,
)


def allergy_add(
    *, encounter: Encounter, by: Any, substance: str, severity: str, reaction: str = ""
) -> Allergy:
    substance = (substance or "").strip()
    if not substance:
        raise clinical_refusal(_("Name the substance."), "substance")
    if severity not in Allergy.Severity.values:
        raise clinical_refusal(_("Choose how severe the reaction is."), "severity")
    with transaction.atomic():
        encounter = encounter_require_writable(encounter, by=by)
        allergy = Allergy(
            patient=encounter.patient,
            substance=substance,
            reaction=(reaction or "").strip(),
            severity=severity,
            hospital=encounter.hospital,
            recorded_by=by,
        )
        clinical_full_clean(allergy, exclude=["patient", "hospital", "recorded_by"])
        allergy.save()
        clinical_audit(by, "allergy.add", allergy, encounter.patient, encounter=encounter.pk)
    return allergy


def allergy_remove(*, allergy: Allergy, encounter: Encounter, by: Any) -> Allergy:
    """Mark an allergy entered in error or no longer true; the row stays in the trail."""
    with transaction.atomic():
        encounter = encounter_require_writable(encounter, by=by)
        allergy = Allergy.objects.select_for_update().get(pk=allergy.pk)
        if allergy.patient_id != encounter.patient_id:
            raise clinical_refusal(NOT_YOURS, "not_yours")
        if allergy.removed_at is None:
            allergy.removed_at = timezone.now()
            allergy.removed_by = by
            allergy.save(update_fields=["removed_at", "removed_by"])
            clinical_audit(by, "allergy.remove", allergy, encounter.patient, encounter=encounter.pk)
    return allergy


def problem_add(
    *, encounter: Encounter, by: Any, description: str, icd10_code: str = ""
) -> Problem:
    description = (description or "").strip()
    if not description:
        raise clinical_refusal(_("Describe the problem."), "description")
    with transaction.atomic():
        encounter = encounter_require_writable(encounter, by=by)
        problem = Problem(
            patient=encounter.patient,
            description=description,
            icd10_code=(icd10_code or "").strip().upper(),
            hospital=encounter.hospital,
            recorded_by=by,
        )
        clinical_full_clean(problem, exclude=["patient", "hospital", "recorded_by"])
        problem.save()
        clinical_audit(by, "problem.add", problem, encounter.patient, encounter=encounter.pk)
    return problem


def problem_resolve(*, problem: Problem, encounter: Encounter, by: Any) -> Problem:
    with transaction.atomic():
        encounter = encounter_require_writable(encounter, by=by)
        problem = Problem.objects.select_for_update().get(pk=problem.pk)
        if problem.patient_id != encounter.patient_id:
            raise clinical_refusal(NOT_YOURS, "not_yours")
        if problem.resolved_at is None:
            problem.resolved_at = timezone.now()
            problem.save(update_fields=["resolved_at"])
            clinical_audit(
                by, "problem.resolve", problem, encounter.patient, encounter=encounter.pk
            )
    return problem


def problem_mark_chronic(
    *, problem: Problem, encounter: Encounter, by: Any, chronic: bool = True
) -> Problem:
    """Mark a standing problem chronic (or not) whatever its ICD-10 code, so its prescriptions
    of chronic-care drugs may be renewed online (issue 20)."""
    with transaction.atomic():
        encounter = encounter_require_writable(encounter, by=by)
        problem = Problem.objects.select_for_update().get(pk=problem.pk)
        if problem.patient_id != encounter.patient_id:
            raise clinical_refusal(NOT_YOURS, "not_yours")
        if problem.marked_chronic != chronic:
            problem.marked_chronic = chronic
            problem.save(update_fields=["marked_chronic"])
            clinical_audit(
                by,
                "problem.chronic" if chronic else "problem.not_chronic",
                problem,
                encounter.patient,
                encounter=encounter.pk,
            )
    return problem
