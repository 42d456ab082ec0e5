"""What every FHIR builder shares: code systems, status maps, small value helpers, and the
envelopes (OperationOutcome, Bundle, CapabilityStatement)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils import timezone

from appointments.models import Appointment
from records.models import Referral

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


def clean(resource: dict) -> dict:
    """Drop empty values: FHIR forbids empty strings, lists and objects."""
    return {key: value for key, value in resource.items() if value not in (None, "", [], {})}


def text_concept(text: str) -> dict:
    return {"text": text}


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
    authenticated = {"Appointment", "Patient", "DiagnosticReport", "Observation"}
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
                # A clinic's system POSTs a DiagnosticReport with its Observations as one
                # transaction Bundle, with a results.write token (docs/fhir.md).
                "interaction": [{"code": "transaction"}],
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
