"""Exams and lab values as FHIR (issue 15): DiagnosticReport and Observation. Built from rows
the caller loaded with their observations, files and signer (records.selectors_results)."""

from __future__ import annotations

import base64
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _

from portal.fhir.resources.base import LOINC, clean, instant, reference, text_concept
from records.models import Exam, Observation

V2_DIAGNOSTIC_SERVICE = "http://terminology.hl7.org/CodeSystem/v2-0074"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

# Our kinds as FHIR's diagnostic service sections and a LOINC report code.
KIND_SECTION = {
    Exam.Kind.ECG: ("EC", "Electrocardiac"),
    Exam.Kind.XRAY: ("RX", "Radiograph"),
    Exam.Kind.ULTRASOUND: ("RUS", "Radiology Ultrasound"),
    Exam.Kind.LAB: ("LAB", "Laboratory"),
}
KIND_LOINC = {
    Exam.Kind.ECG: ("11524-6", "EKG study"),
    Exam.Kind.XRAY: ("18748-4", "Diagnostic imaging study"),
    Exam.Kind.ULTRASOUND: ("18748-4", "Diagnostic imaging study"),
    Exam.Kind.LAB: ("11502-2", "Laboratory report"),
}
KIND_FROM_SECTION = {code: kind for kind, (code, _display) in KIND_SECTION.items()}
REPORT_STATUS = {
    Exam.Status.REGISTERED: "registered",
    Exam.Status.SENT: "registered",
    Exam.Status.CLAIMED: "partial",
    Exam.Status.FINAL: "final",
}


def number(value: Decimal) -> int | float:
    """A JSON number for a decimal: whole numbers stay whole."""
    value = Decimal(value).normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def _quantity(value: Decimal | None, unit: str) -> dict | None:
    if value is None:
        return None
    return clean({"value": number(value), "unit": unit})


def _report_code(exam: Exam) -> dict:
    code, display = KIND_LOINC[exam.kind]
    return {
        "coding": [{"system": LOINC, "code": code, "display": display}],
        "text": exam.title or exam.get_kind_display(),
    }


def observation(row: Observation, exam: Exam) -> dict:
    flag = row.flag
    interpretation = None
    if flag or row.reference_low is not None or row.reference_high is not None:
        code = flag or "N"
        display = {"H": "High", "L": "Low", "N": "Normal"}[code]
        interpretation = [
            {"coding": [{"system": V3_INTERPRETATION, "code": code, "display": display}]}
        ]
    reference_range = clean(
        {
            "low": _quantity(row.reference_low, row.unit),
            "high": _quantity(row.reference_high, row.unit),
        }
    )
    code = {"text": row.name}
    if row.code:
        code["coding"] = [{"system": LOINC, "code": row.code, "display": row.name}]
    return clean(
        {
            "resourceType": "Observation",
            "id": str(row.public_id),
            "status": "final" if exam.is_final else "preliminary",
            "category": [
                {
                    "coding": [
                        {
                            "system": OBSERVATION_CATEGORY,
                            "code": "laboratory",
                            "display": "Laboratory",
                        }
                    ]
                }
            ],
            "code": code,
            "subject": reference("Patient", exam.patient.public_id),
            "encounter": reference("Encounter", exam.encounter.public_id),
            "effectiveDateTime": instant(exam.created_at),
            "issued": instant(exam.signed_at),
            "performer": [reference("Organization", exam.hospital_id, exam.hospital.display_name)],
            "valueQuantity": _quantity(row.value, row.unit),
            "interpretation": interpretation,
            "referenceRange": [reference_range] if reference_range else None,
        }
    )


def diagnostic_report(exam: Exam) -> dict:
    section, section_display = KIND_SECTION[exam.kind]
    forms = []
    if exam.findings:
        forms.append(
            {
                "contentType": "text/plain; charset=utf-8",
                "language": "zh-CN",
                "data": base64.b64encode(exam.findings.encode()).decode(),
                "title": _("Findings"),
            }
        )
    for attachment in exam.files.all():
        forms.append(
            {
                "contentType": attachment.content_type,
                "url": reverse("attachment_download", args=[attachment.public_id]),
                "title": attachment.title or attachment.original_name,
                "size": attachment.size,
            }
        )
    interpreter = None
    if exam.signer_id is not None and exam.is_final:
        interpreter = [{"display": exam.signer.get_full_name()}]
    return clean(
        {
            "resourceType": "DiagnosticReport",
            "id": str(exam.public_id),
            "status": REPORT_STATUS[exam.status],
            "category": [
                {
                    "coding": [
                        {
                            "system": V2_DIAGNOSTIC_SERVICE,
                            "code": section,
                            "display": section_display,
                        }
                    ]
                }
            ],
            "code": _report_code(exam),
            "subject": reference("Patient", exam.patient.public_id),
            "encounter": reference("Encounter", exam.encounter.public_id),
            "effectiveDateTime": instant(exam.created_at),
            "issued": instant(exam.signed_at),
            "performer": [reference("Organization", exam.hospital_id, exam.hospital.display_name)],
            "resultsInterpreter": interpreter,
            "result": [reference("Observation", row.public_id) for row in exam.observations.all()],
            "conclusion": exam.impression,
            "conclusionCode": [text_concept(_("urgent"))] if exam.is_urgent else None,
            "presentedForm": forms,
        }
    )


def exam_resources(exam: Exam) -> list[dict]:
    """The report and its observations, in that order."""
    return [diagnostic_report(exam)] + [observation(row, exam) for row in exam.observations.all()]
