"""Prescriptions: a draft replaced while unsigned, signed once; no controlled drug online."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.errors import NOT_YOURS, clinical_refusal
from records.models import Drug, Encounter, Prescription, PrescriptionItem
from records.services.encounters import clinical_audit, encounter_require_writable


def _refuse_controlled_online(encounter: Encounter, drugs: Iterable[Drug]) -> None:
    if encounter.mode not in (Encounter.Mode.ONLINE, Encounter.Mode.RENEWAL):
        return
    controlled = [drug for drug in drugs if drug.is_controlled]
    if controlled:
        raise clinical_refusal(
            _(
                "%(drugs)s is a controlled drug and cannot be prescribed in an online consult. "
                "Ask the patient to come in person."
            ),
            "controlled_online",
            drugs=", ".join(str(drug) for drug in controlled),
        )


def prescription_items_clean(items: Iterable[Mapping[str, Any]]) -> list[PrescriptionItem]:
    cleaned = []
    for raw in items:
        drug = raw.get("drug")
        if not isinstance(drug, Drug):
            try:
                drug = Drug.objects.filter(pk=int(drug), is_active=True).first()
            except (TypeError, ValueError):
                drug = None
        if drug is None:
            raise clinical_refusal(_("Choose a drug from the list."), "drug")
        try:
            days = int(raw.get("days"))
            quantity = int(raw.get("quantity"))
        except (TypeError, ValueError):
            message = _("Give the days and the quantity as whole numbers.")
            raise clinical_refusal(message, "numbers") from None
        dose = str(raw.get("dose") or "").strip()
        frequency = str(raw.get("frequency") or "").strip()
        if not dose or not frequency:
            raise clinical_refusal(_("Give the dose and how often to take it."), "dose")
        if not 1 <= days <= 90:
            raise clinical_refusal(_("A prescription lasts 1 to 90 days."), "days")
        if quantity < 1:
            raise clinical_refusal(_("The quantity must be at least 1."), "quantity")
        cleaned.append(
            PrescriptionItem(
                drug=drug, dose=dose[:60], frequency=frequency[:60], days=days, quantity=quantity
            )
        )
    return cleaned


def prescription_save(
    *,
    encounter: Encounter,
    prescriber: Any,
    items: Iterable[Mapping[str, Any]],
    prescription: Prescription | None = None,
    prior: Prescription | None = None,
) -> Prescription:
    """Create a draft prescription, or replace the items of `prescription` while it is a
    draft. Each item: drug (a Drug or its id), dose, frequency, days, quantity. A controlled
    drug in an online encounter is refused. `prior`: the prescription a new one renews."""
    cleaned = prescription_items_clean(items)
    if not cleaned:
        raise clinical_refusal(_("Add at least one drug."), "empty")
    with transaction.atomic():
        encounter = encounter_require_writable(encounter, by=prescriber)
        _refuse_controlled_online(encounter, [item.drug for item in cleaned])
        if prescription is None:
            prescription = Prescription.objects.create(
                encounter=encounter, prescriber=prescriber, prior=prior
            )
            action = "prescription.create"
        else:
            prescription = Prescription.objects.select_for_update().get(pk=prescription.pk)
            if prescription.encounter_id != encounter.pk:
                raise clinical_refusal(NOT_YOURS, "not_yours")
            if prescription.signed_at is not None:
                raise clinical_refusal(_("A signed prescription is never changed."), "signed")
            prescription.items.all().delete()
            action = "prescription.update"
        for item in cleaned:
            item.prescription = prescription
        PrescriptionItem.objects.bulk_create(cleaned)
        clinical_audit(
            prescriber,
            action,
            prescription,
            encounter.patient,
            encounter=encounter.pk,
            items=len(cleaned),
        )
    return prescription


def prescription_sign(*, prescription: Prescription, by: Any) -> Prescription:
    with transaction.atomic():
        prescription = Prescription.objects.select_for_update().get(pk=prescription.pk)
        encounter = encounter_require_writable(prescription.encounter, by=by)
        if prescription.prescriber_id != by.pk:
            raise clinical_refusal(NOT_YOURS, "not_yours")
        if prescription.signed_at is not None:
            return prescription
        drugs = [item.drug for item in prescription.items.select_related("drug")]
        if not drugs:
            raise clinical_refusal(_("Add at least one drug."), "empty")
        _refuse_controlled_online(encounter, drugs)
        prescription.signed_at = timezone.now()
        prescription.save(update_fields=["signed_at"])
        clinical_audit(
            by, "prescription.sign", prescription, encounter.patient, encounter=encounter.pk
        )
    return prescription
