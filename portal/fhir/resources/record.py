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
)


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


def medication_requests(prescription: Prescription, item: Encounter) -> list[dict]:
    """One MedicationRequest per drug of a signed prescription, grouped by the prescription."""
    resources = []
    for index, line in enumerate(prescription.items.all(), start=1):
        drug = line.drug
        drug_text = f"{drug.name} {drug.strength}"
        if drug.name_en:
            drug_text += f" ({drug.name_en})"
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
                    "authoredOn": instant(prescription.signed_at),
                    "requester": reference(
                        "Practitioner", item.doctor_id, item.doctor.display_name
                    ),
                    "dosageInstruction": [
                        {
                            "text": f"{line.dose}, {line.frequency}, "
                            + _("%(days)d days") % {"days": line.days}
                        }
                    ],
                    "dispenseRequest": {
                        "quantity": {"value": line.quantity},
                        "expectedSupplyDuration": {
                            "value": line.days,
                            "unit": "days",
                            "system": "http://unitsofmeasure.org",
                            "code": "d",
                        },
                    },
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
