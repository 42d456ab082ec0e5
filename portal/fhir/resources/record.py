"""The clinical record as FHIR ($everything): Encounter, DocumentReference (notes and
addenda), MedicationRequest, AllergyIntolerance, Condition."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from portal.fhir.resources.base import (
    ALLERGY_CLINICAL,
    CONDITION_CATEGORY,
    CONDITION_CLINICAL,
    ICD10,
    LOINC,
    V3_ACT_CODE,
    clean,
    instant,
    reference,
    system,
    text_concept,
)
from records.models import (
    Allergy,
    ClinicalNote,
    Encounter,
    NoteAddendum,
    Patient,
    Prescription,
    Problem,
    RenewalRequest,
)

# A renewal request as the family's proposal (intent "proposal"), by its state.
RENEWAL_STATUS = {
    RenewalRequest.Status.PENDING: "active",
    RenewalRequest.Status.APPROVED: "completed",
    RenewalRequest.Status.CHANGED: "completed",
    RenewalRequest.Status.DECLINED: "cancelled",
}


def encounter(item: Encounter) -> dict:
    online = item.mode in (Encounter.Mode.ONLINE, Encounter.Mode.REMOTE, Encounter.Mode.TEXT)
    return clean(
        {
            "resourceType": "Encounter",
            "id": str(item.public_id),
            "status": "in-progress" if item.is_open else "finished",
            "class": {
                "system": V3_ACT_CODE,
                "code": "VR" if online else "AMB",
                "display": "virtual" if online else "ambulatory",
            },
            "serviceType": text_concept(item.department.display_name)
            if item.department_id
            else None,
            "subject": reference("Patient", item.patient.public_id),
            "participant": [
                {"individual": reference("Practitioner", item.doctor_id, item.doctor.display_name)}
            ],
            "period": clean({"start": instant(item.started_at), "end": instant(item.ended_at)}),
            "serviceProvider": reference(
                "Organization", item.hospital_id, item.hospital.display_name
            ),
        }
    )


def _note_text(note: ClinicalNote) -> str:
    parts = []
    if note.diagnosis or note.icd10_code:
        diagnosis = " ".join(filter(None, [note.icd10_code, note.diagnosis]))
        parts.append(f"{_('Diagnosis')}: {diagnosis}")
    for label, text in (
        (_("Subjective"), note.subjective),
        (_("Objective"), note.objective),
        (_("Assessment"), note.assessment),
        (_("Plan"), note.plan),
    ):
        if text:
            parts.append(f"{label}:\n{text}")
    return "\n\n".join(parts)


def _text_attachment(text: str, title: str, created: dt.datetime | None) -> dict:
    return clean(
        {
            "contentType": "text/plain; charset=utf-8",
            "language": "zh-CN",
            "data": base64.b64encode(text.encode()).decode(),
            "title": title,
            "creation": instant(created),
        }
    )


def note_document(note: ClinicalNote, item: Encounter) -> dict:
    """A signed SOAP note as a DocumentReference: the note's text as a plain-text attachment."""
    return clean(
        {
            "resourceType": "DocumentReference",
            "id": str(note.public_id),
            "status": "current",
            "docStatus": "amended" if note.addenda.all() else "final",
            # A remote consultation's note is the specialist's consult opinion.
            "type": {
                "coding": [{"system": LOINC, "code": "11488-4", "display": "Consult note"}],
                "text": _("Consult opinion"),
            }
            if item.mode == Encounter.Mode.REMOTE
            else {
                "coding": [{"system": LOINC, "code": "11506-3", "display": "Progress note"}],
                "text": _("Clinical note"),
            },
            "subject": reference("Patient", item.patient.public_id),
            "date": instant(note.signed_at),
            "author": [reference("Practitioner", item.doctor_id, item.doctor.display_name)],
            "description": note.diagnosis,
            "content": [
                {
                    "attachment": _text_attachment(
                        _note_text(note), _("Clinical note"), note.signed_at
                    )
                }
            ],
            "context": {
                "encounter": [reference("Encounter", item.public_id)],
                "period": clean({"start": instant(item.started_at), "end": instant(item.ended_at)}),
            },
        }
    )


def addendum_document(addendum: NoteAddendum, note: ClinicalNote, item: Encounter) -> dict:
    """An addendum appends to its note (a signed note is never edited)."""
    author = addendum.author.name
    return clean(
        {
            "resourceType": "DocumentReference",
            "id": str(addendum.public_id),
            "status": "current",
            "docStatus": "final",
            "type": {
                "coding": [{"system": LOINC, "code": "11506-3", "display": "Progress note"}],
                "text": _("Addendum"),
            },
            "subject": reference("Patient", item.patient.public_id),
            "date": instant(addendum.signed_at),
            "author": [{"display": author}] if author else [],
            "relatesTo": [
                {"code": "appends", "target": reference("DocumentReference", note.public_id)}
            ],
            "content": [
                {"attachment": _text_attachment(addendum.text, _("Addendum"), addendum.signed_at)}
            ],
            "context": {"encounter": [reference("Encounter", item.public_id)]},
        }
    )


def _drug_text(drug) -> str:
    text = f"{drug.name} {drug.strength}"
    return f"{text} ({drug.name_en})" if drug.name_en else text


def _line_ids(prefix: object, lines) -> dict[int, str]:
    """drug id → the MedicationRequest id of that drug's line (`<prefix>-<n>`)."""
    ids: dict[int, str] = {}
    for index, line in enumerate(lines, start=1):
        ids.setdefault(line.drug_id, f"{prefix}-{index}")
    return ids


def _dosage(line) -> list[dict]:
    return [{"text": f"{line.dose}, {line.frequency}, " + _("%(days)d days") % {"days": line.days}}]


def _dispense(line) -> dict:
    return {
        "quantity": {"value": line.quantity},
        "expectedSupplyDuration": {
            "value": line.days,
            "unit": "days",
            "system": "http://unitsofmeasure.org",
            "code": "d",
        },
    }


def medication_requests(prescription: Prescription, item: Encounter) -> list[dict]:
    """One MedicationRequest per drug of a signed prescription, grouped by the prescription.
    A renewal's lines name the old prescription's line of the same drug (`priorPrescription`)
    and the family's request it answers (`basedOn`, the proposal of `renewal_proposals`);
    the caller loads `prior` with its items and `renewal_request`."""
    prior_ids: dict[int, str] = {}
    if prescription.prior_id is not None:
        prior_ids = _line_ids(prescription.prior.public_id, prescription.prior.items.all())
    asked = getattr(prescription, "renewal_request", None) if prescription.prior_id else None
    asked_ids = (
        _line_ids(asked.public_id, prescription.prior.items.all()) if asked is not None else {}
    )
    resources = []
    for index, line in enumerate(prescription.items.all(), start=1):
        drug = line.drug
        drug_text = _drug_text(drug)
        prior_id = prior_ids.get(line.drug_id)
        asked_id = asked_ids.get(line.drug_id)
        resources.append(
            clean(
                {
                    "resourceType": "MedicationRequest",
                    "id": f"{prescription.public_id}-{index}",
                    "groupIdentifier": {
                        "system": system("prescription"),
                        "value": str(prescription.public_id),
                    },
                    "status": "active",
                    "intent": "order",
                    "medicationCodeableConcept": text_concept(drug_text),
                    "subject": reference("Patient", item.patient.public_id),
                    "encounter": reference("Encounter", item.public_id),
                    "basedOn": [reference("MedicationRequest", asked_id)] if asked_id else [],
                    "priorPrescription": reference("MedicationRequest", prior_id)
                    if prior_id
                    else None,
                    "authoredOn": instant(prescription.signed_at),
                    "requester": reference(
                        "Practitioner", item.doctor_id, item.doctor.display_name
                    ),
                    "dosageInstruction": _dosage(line),
                    "dispenseRequest": _dispense(line),
                }
            )
        )
    return resources


def renewal_proposals(renewal: RenewalRequest) -> list[dict]:
    """The family's renewal request as MedicationRequests of intent "proposal", one per drug
    of the prescription it asks to renew (same drugs and doses), grouped by the request;
    each names the old line as `priorPrescription`. Active while it waits, completed once
    renewed (the new order's `basedOn` points here), cancelled when a visit was asked for.
    The caller loads the prescription's items, its encounter, and the doctor."""
    old = renewal.prescription
    resources = []
    for index, line in enumerate(old.items.all(), start=1):
        resources.append(
            clean(
                {
                    "resourceType": "MedicationRequest",
                    "id": f"{renewal.public_id}-{index}",
                    "groupIdentifier": {
                        "system": system("renewal-request"),
                        "value": str(renewal.public_id),
                    },
                    "status": RENEWAL_STATUS[renewal.status],
                    "statusReason": text_concept(str(renewal.get_status_display()))
                    if renewal.status == RenewalRequest.Status.DECLINED
                    else None,
                    "intent": "proposal",
                    "medicationCodeableConcept": text_concept(_drug_text(line.drug)),
                    "subject": reference("Patient", renewal.patient.public_id),
                    "authoredOn": instant(renewal.created_at),
                    "performer": reference(
                        "Practitioner", renewal.doctor_id, renewal.doctor.display_name
                    ),
                    "priorPrescription": reference("MedicationRequest", f"{old.public_id}-{index}"),
                    "note": [{"text": renewal.note}] if renewal.note else [],
                    "dosageInstruction": _dosage(line),
                    "dispenseRequest": _dispense(line),
                }
            )
        )
    return resources


def allergy_intolerance(allergy: Allergy, person: Patient) -> dict:
    reaction = []
    if allergy.reaction:
        reaction = [
            {"manifestation": [text_concept(allergy.reaction)], "severity": allergy.severity}
        ]
    return clean(
        {
            "resourceType": "AllergyIntolerance",
            "id": str(allergy.public_id),
            "clinicalStatus": {"coding": [{"system": ALLERGY_CLINICAL, "code": "active"}]},
            "criticality": "high" if allergy.severity == Allergy.Severity.SEVERE else "low",
            "code": text_concept(allergy.substance),
            "patient": reference("Patient", person.public_id),
            "recordedDate": instant(allergy.recorded_at),
            "reaction": reaction,
        }
    )


def condition(problem: Problem, person: Patient) -> dict:
    code: dict[str, Any] = {"text": problem.description}
    if problem.icd10_code:
        code["coding"] = [{"system": ICD10, "code": problem.icd10_code}]
    return clean(
        {
            "resourceType": "Condition",
            "id": str(problem.public_id),
            "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
            "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
            "code": code,
            "subject": reference("Patient", person.public_id),
            "recordedDate": instant(problem.recorded_at),
        }
    )
