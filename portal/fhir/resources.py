"""FHIR R4 resources built as plain dicts from our rows (no FHIR library at run time; the
tests validate every builder's output with `fhir.resources.R4B`).

Every builder takes rows already loaded by the caller (see portal/fhir/selectors.py) and
runs no query of its own. Ids: hospitals, doctors and slots are public directory data and use
their primary keys; a Schedule is `<doctor>-<site>`; people and clinical rows use their
unguessable `public_id`; an appointment its code (as in /appointments/<code>/).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from appointments.models import Appointment, Mode, Slot
from hospitals.models import Doctor, Hospital
from records.models import (
    Allergy,
    ClinicalNote,
    Encounter,
    NoteAddendum,
    Patient,
    Prescription,
    Problem,
    Referral,
)

FHIR_VERSION = "4.0.1"
FHIR_JSON = "application/fhir+json"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
LOINC = "http://loinc.org"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"

APPOINTMENT_STATUS = {
    Appointment.Status.BOOKED: "booked",
    Appointment.Status.CHECKED_IN: "checked-in",
    Appointment.Status.IN_CONSULT: "arrived",
    Appointment.Status.COMPLETED: "fulfilled",
    Appointment.Status.CANCELLED: "cancelled",
    Appointment.Status.NO_SHOW: "noshow",
}
APPOINTMENT_STATUS_FROM_FHIR = {fhir: ours for ours, fhir in APPOINTMENT_STATUS.items()}
REFERRAL_STATUS = {
    Referral.Status.ISSUED: "active",
    Referral.Status.BOOKED: "active",
    Referral.Status.COMPLETED: "completed",
    Referral.Status.EXPIRED: "revoked",
    Referral.Status.CANCELLED: "revoked",
}
SLOT_STATUSES = ("free", "busy", "busy-unavailable")


def system(name: str) -> str:
    """A stable identifier or code system URI of this platform (not of the request's host)."""
    return f"https://{settings.SITE_DOMAIN}/fhir/sid/{name}"


def instant(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def reference(resource_type: str, resource_id: Any, display: str = "") -> dict:
    ref = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        ref["display"] = display
    return ref


def _clean(resource: dict) -> dict:
    """Drop empty values: FHIR forbids empty strings, lists and objects."""
    return {key: value for key, value in resource.items() if value not in (None, "", [], {})}


def _text_concept(text: str) -> dict:
    return {"text": text}


def schedule_id(doctor_id: int, site_id: int) -> str:
    return f"{doctor_id}-{site_id}"


# --- The directory (public) -------------------------------------------------------------------


def _address(hospital: Hospital) -> list[dict]:
    address = _clean(
        {
            "text": hospital.display_address,
            "district": hospital.display_district,
        }
    )
    return [address] if address else []


def organization(hospital: Hospital) -> dict:
    return _clean(
        {
            "resourceType": "Organization",
            "id": str(hospital.pk),
            "active": hospital.is_active,
            "type": [_text_concept(str(hospital.get_kind_display()))],
            "name": hospital.name,
            "alias": [hospital.name_en] if hospital.name_en else [],
            "telecom": [{"system": "phone", "value": hospital.phone}] if hospital.phone else [],
            "address": _address(hospital),
        }
    )


def location(hospital: Hospital) -> dict:
    """A hospital as the place where a doctor's sessions happen (Schedule and Appointment
    actors cannot be Organizations)."""
    address = _address(hospital)
    return _clean(
        {
            "resourceType": "Location",
            "id": str(hospital.pk),
            "status": "active" if hospital.is_active else "inactive",
            "name": hospital.name,
            "alias": [hospital.name_en] if hospital.name_en else [],
            "telecom": [{"system": "phone", "value": hospital.phone}] if hospital.phone else [],
            "address": address[0] if address else None,
            "managingOrganization": reference("Organization", hospital.pk, hospital.display_name),
        }
    )


def practitioner(doctor: Doctor) -> dict:
    names = [{"use": "official", "text": doctor.name}]
    if doctor.name_en:
        names.append({"use": "usual", "text": doctor.name_en})
    return _clean(
        {
            "resourceType": "Practitioner",
            "id": str(doctor.pk),
            "active": doctor.is_active,
            "name": names,
            "qualification": [{"code": _text_concept(str(doctor.get_title_display()))}],
        }
    )


def schedule(doctor: Doctor, site: Hospital) -> dict:
    """One per doctor and site: the doctor's sessions there (their Slots)."""
    return _clean(
        {
            "resourceType": "Schedule",
            "id": schedule_id(doctor.pk, site.pk),
            "active": doctor.is_active and site.is_active,
            "serviceType": [_text_concept(doctor.department.display_name)],
            "actor": [
                reference("Practitioner", doctor.pk, doctor.display_name),
                reference("Location", site.pk, site.display_name),
            ],
        }
    )


def slot_status(slot: Slot, *, now: dt.datetime) -> str:
    """free: a public place can be taken now; busy: open but full; busy-unavailable: closed,
    begun, or not released yet. The same rule as selectors.slot_status_filter."""
    if slot.closed_at is not None or now >= slot.start or now < slot.release_at:
        return "busy-unavailable"
    return "free" if slot.public_places_left(now=now) > 0 else "busy"


def slot(slot: Slot, *, now: dt.datetime) -> dict:
    status = slot_status(slot, now=now)
    comment = ""
    if status == "free":
        left = slot.public_places_left(now=now)
        comment = ngettext("%(n)d place left", "%(n)d places left", left) % {"n": left}
    elif status == "busy-unavailable" and slot.closed_at is None and now < slot.release_at:
        comment = _("Opens for booking at %(at)s") % {
            "at": timezone.localtime(slot.release_at, slot.site.zone).strftime("%Y-%m-%d %H:%M")
        }
    return _clean(
        {
            "resourceType": "Slot",
            "id": str(slot.pk),
            "serviceCategory": [_text_concept(str(Mode(slot.mode).label))],
            "serviceType": [_text_concept(slot.department.display_name)],
            "schedule": reference("Schedule", schedule_id(slot.doctor_id, slot.site_id)),
            "status": status,
            "start": instant(slot.start),
            "end": instant(slot.end),
            "comment": comment,
        }
    )


# --- People and appointments (authenticated) ---------------------------------------------------


def patient(person: Patient) -> dict:
    return _clean(
        {
            "resourceType": "Patient",
            "id": str(person.public_id),
            "identifier": [
                {"system": system("patient"), "value": str(person.public_id)},
                # Only the masked number is ever shown (DESIGN.md §3).
                {
                    "use": "official",
                    "type": {
                        "coding": [{"system": V2_IDENTIFIER_TYPE, "code": "NI"}],
                        "text": _("ID number (masked)"),
                    },
                    "value": person.id_number_masked,
                },
            ],
            "active": True,
            "name": [{"use": "official", "text": person.name}],
            "telecom": [{"system": "phone", "value": person.phone, "use": "mobile"}]
            if person.phone
            else [],
            "gender": person.sex if person.sex in ("male", "female") else "unknown",
            "birthDate": person.birth_date.isoformat(),
        }
    )


def appointment(item: Appointment) -> dict:
    """Needs slot (with doctor, site, department) and patient loaded."""
    slot_row = item.slot
    status = APPOINTMENT_STATUS[item.status]
    return _clean(
        {
            "resourceType": "Appointment",
            "id": item.code,
            "identifier": [{"system": system("appointment-code"), "value": item.code}],
            "status": status,
            "cancelationReason": _text_concept(str(item.get_cancel_reason_display()))
            if item.cancel_reason
            else None,
            "serviceCategory": [_text_concept(str(Mode(slot_row.mode).label))],
            "serviceType": [_text_concept(slot_row.department.display_name)],
            "start": instant(slot_row.start),
            "end": instant(slot_row.end),
            "created": instant(item.created_at),
            "slot": [reference("Slot", slot_row.pk)],
            "comment": item.visit_reason,
            "basedOn": [reference("ServiceRequest", item.referral.public_id)]
            if item.referral_id
            else [],
            "participant": [
                {
                    "actor": reference("Patient", item.patient.public_id, item.patient.name),
                    "required": "required",
                    "status": "accepted",
                },
                {
                    "actor": reference(
                        "Practitioner", slot_row.doctor_id, slot_row.doctor.display_name
                    ),
                    "required": "required",
                    "status": "accepted",
                },
                {
                    "actor": reference("Location", slot_row.site_id, slot_row.site.display_name),
                    "required": "required",
                    "status": "accepted",
                },
            ],
        }
    )


# --- The record ($everything) -----------------------------------------------------------------


def encounter(item: Encounter) -> dict:
    online = item.mode == Encounter.Mode.ONLINE
    return _clean(
        {
            "resourceType": "Encounter",
            "id": str(item.public_id),
            "status": "in-progress" if item.is_open else "finished",
            "class": {
                "system": V3_ACT_CODE,
                "code": "VR" if online else "AMB",
                "display": "virtual" if online else "ambulatory",
            },
            "serviceType": _text_concept(item.department.display_name)
            if item.department_id
            else None,
            "subject": reference("Patient", item.patient.public_id),
            "participant": [
                {"individual": reference("Practitioner", item.doctor_id, item.doctor.display_name)}
            ],
            "period": _clean({"start": instant(item.started_at), "end": instant(item.ended_at)}),
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
    return _clean(
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
    return _clean(
        {
            "resourceType": "DocumentReference",
            "id": str(note.public_id),
            "status": "current",
            "docStatus": "amended" if note.addenda.all() else "final",
            "type": {
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
                "period": _clean(
                    {"start": instant(item.started_at), "end": instant(item.ended_at)}
                ),
            },
        }
    )


def addendum_document(addendum: NoteAddendum, note: ClinicalNote, item: Encounter) -> dict:
    """An addendum appends to its note (a signed note is never edited)."""
    author = addendum.author.name
    return _clean(
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
            _clean(
                {
                    "resourceType": "MedicationRequest",
                    "id": f"{prescription.public_id}-{index}",
                    "groupIdentifier": {
                        "system": system("prescription"),
                        "value": str(prescription.public_id),
                    },
                    "status": "active",
                    "intent": "order",
                    "medicationCodeableConcept": _text_concept(drug_text),
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
            {"manifestation": [_text_concept(allergy.reaction)], "severity": allergy.severity}
        ]
    return _clean(
        {
            "resourceType": "AllergyIntolerance",
            "id": str(allergy.public_id),
            "clinicalStatus": {"coding": [{"system": ALLERGY_CLINICAL, "code": "active"}]},
            "criticality": "high" if allergy.severity == Allergy.Severity.SEVERE else "low",
            "code": _text_concept(allergy.substance),
            "patient": reference("Patient", person.public_id),
            "recordedDate": instant(allergy.recorded_at),
            "reaction": reaction,
        }
    )


def condition(problem: Problem, person: Patient) -> dict:
    code: dict[str, Any] = {"text": problem.description}
    if problem.icd10_code:
        code["coding"] = [{"system": ICD10, "code": problem.icd10_code}]
    return _clean(
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


def service_request(referral: Referral, person: Patient) -> dict:
    """A referral: to a hospital, optionally a department or doctor, until it expires."""
    performer = [reference("Organization", referral.to_hospital_id)]
    if referral.to_doctor_id:
        performer.append(reference("Practitioner", referral.to_doctor_id))
    source = referral.encounter
    return _clean(
        {
            "resourceType": "ServiceRequest",
            "id": str(referral.public_id),
            "status": REFERRAL_STATUS[referral.status],
            "intent": "order",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://snomed.info/sct",
                            "code": "3457005",
                            "display": "Patient referral",
                        }
                    ]
                }
            ],
            "code": _text_concept(
                referral.to_department.display_name
                if referral.to_department_id
                else referral.to_hospital.display_name
            ),
            "subject": reference("Patient", person.public_id),
            "encounter": reference("Encounter", source.public_id) if source else None,
            "occurrencePeriod": {
                "start": instant(referral.issued_at),
                "end": instant(referral.valid_until),
            },
            "authoredOn": instant(referral.issued_at),
            "requester": reference("Practitioner", source.doctor_id) if source else None,
            "performer": performer,
            "reasonCode": [_text_concept(referral.reason)] if referral.reason else [],
        }
    )


# --- Envelopes ----------------------------------------------------------------------------------


def operation_outcome(
    diagnostics: str, *, code: str = "processing", severity: str = "error", detail: str = ""
) -> dict:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": str(diagnostics)}
    if detail:
        issue["details"] = {"coding": [{"system": system("outcome"), "code": detail}]}
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def bundle(
    resources: Iterable[dict],
    *,
    base: str,
    bundle_type: str = "searchset",
    links: dict[str, str] | None = None,
    total: int | None = None,
) -> dict:
    """`base` is the absolute URL of /fhir/ (entries' fullUrl); `links` maps relation → URL."""
    entries = []
    for resource in resources:
        entry: dict[str, Any] = {
            "fullUrl": f"{base}{resource['resourceType']}/{resource['id']}",
            "resource": resource,
        }
        if bundle_type == "searchset":
            entry["search"] = {"mode": "match"}
        entries.append(entry)
    result: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": bundle_type,
        "timestamp": instant(timezone.now()),
    }
    if total is not None:
        result["total"] = total
    if links:
        result["link"] = [{"relation": rel, "url": url} for rel, url in links.items()]
    if entries:
        result["entry"] = entries
    return result


def capability_statement(*, base: str, search_params: dict[str, list[str]]) -> dict:
    """What this server does, read from the same table of search parameters the views use."""
    authenticated = {"Appointment", "Patient"}
    resources = []
    for resource_type, params in search_params.items():
        interactions = [{"code": "read"}, {"code": "search-type"}]
        if resource_type == "Appointment":
            interactions.append({"code": "create"})
        entry: dict[str, Any] = {
            "type": resource_type,
            "interaction": interactions,
            "searchParam": [
                {"name": name, "type": _param_type(name)}
                for name in params
                if not name.startswith("_")
            ],
        }
        if not entry["searchParam"]:
            del entry["searchParam"]
        if resource_type in authenticated:
            entry["documentation"] = "Requires a signed-in session or a personal access token."
        if resource_type == "Patient":
            entry["operation"] = [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                }
            ]
        resources.append(entry)
    for resource_type in ("Location",):
        resources.append({"type": resource_type, "interaction": [{"code": "read"}]})
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(timezone.now()),
        "publisher": "Cloud Hospital",
        "kind": "instance",
        "software": {"name": "Cloud Hospital portal"},
        "implementation": {"description": "Cloud Hospital FHIR API", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON, "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                                    "code": "OAuth",
                                }
                            ],
                            "text": "Bearer personal access token, or the site's session",
                        }
                    ],
                    "description": "Create a personal access token at /me/api-tokens/ and send "
                    "it as 'Authorization: Bearer <token>'.",
                },
                "resource": resources,
            }
        ],
    }


def _param_type(name: str) -> str:
    if name in ("start", "date"):
        return "date"
    if name in ("schedule", "patient", "actor"):
        return "reference"
    if name == "name":
        return "string"
    return "token"
