"""Results (issue 15): DiagnosticReport and Observation for the signed-in family (search by
`patient`, read), and a clinic system's transaction Bundle POSTed to /fhir/ with a
results.write token: one DiagnosticReport with its Observations, for a visit of the token's
hospital, saved whole through records.services.exam_import or not at all.

The Bundle is checked here by hand (no FHIR library at run time, as everywhere in the API);
tests/fhir validates what we accept and what we emit with fhir.resources' R4B models.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from audit.services import audit_record
from hospitals.models import Hospital, StaffMembership
from portal.fhir import resources as fhir
from portal.fhir import search
from portal.fhir import selectors as fhir_selectors
from portal.fhir.views.endpoint import (
    RESULTS_WRITE_SCOPE,
    SEARCH_PARAMS,
    FhirError,
    base_url,
    fhir_endpoint,
    fhir_response,
    uuid_id,
)
from records.models import Encounter, Exam
from records.selectors_results import exams_of_accounts_people
from records.services import exam_import

ACCEPTED_CONTENT_TYPES = ("application/fhir+json", "application/json")
MAX_BODY = 256 * 1024
REPORT_STATUSES = {"registered": False, "partial": False, "preliminary": False, "final": True}
OBSERVATION_STATUSES = ("registered", "preliminary", "final", "amended", "corrected")
WRITER_ROLES = (StaffMembership.Role.HOSPITAL_ADMIN, StaffMembership.Role.DOCTOR)


# --- Search and read, for the family --------------------------------------------------------


def _people(request: HttpRequest):
    """The people the account reads the record of, narrowed to `patient=` when given."""
    people = fhir_selectors.patients_of_account(account=request.fhir_user).filter(
        links__can_read_record=True
    )
    wanted = search.values(request, "patient")
    if wanted:
        ids = []
        for value in wanted:
            try:
                ids.append(uuid.UUID(search.reference_id(value, "Patient")))
            except ValueError:
                continue
        people = people.filter(public_id__in=ids)
    return people


@fhir_endpoint("GET", authenticated=True)
def diagnostic_report_search(request: HttpRequest) -> HttpResponse:
    search.check_params(request, SEARCH_PARAMS["DiagnosticReport"])
    exams = exams_of_accounts_people(patients=_people(request))
    resources = [fhir.diagnostic_report(exam) for exam in exams]
    return _searchset(request, resources)


@fhir_endpoint("GET", authenticated=True)
def observation_search(request: HttpRequest) -> HttpResponse:
    search.check_params(request, SEARCH_PARAMS["Observation"])
    exams = exams_of_accounts_people(patients=_people(request))
    resources = [fhir.observation(row, exam) for exam in exams for row in exam.observations.all()]
    return _searchset(request, resources)


def _searchset(request: HttpRequest, resources: list[dict]) -> HttpResponse:
    return fhir_response(
        fhir.bundle(
            resources,
            base=base_url(request),
            links={"self": request.build_absolute_uri()},
            total=len(resources),
        )
    )


@fhir_endpoint("GET", authenticated=True)
def diagnostic_report_read(request: HttpRequest, resource_id: str) -> HttpResponse:
    search.check_params(request, ())
    people = fhir_selectors.patients_of_account(account=request.fhir_user).filter(
        links__can_read_record=True
    )
    exams = exams_of_accounts_people(patients=people, public_id=uuid_id(resource_id))
    if not exams:
        raise Http404
    return fhir_response(fhir.diagnostic_report(exams[0]))


@fhir_endpoint("GET", authenticated=True)
def observation_read(request: HttpRequest, resource_id: str) -> HttpResponse:
    search.check_params(request, ())
    wanted = uuid_id(resource_id)
    people = fhir_selectors.patients_of_account(account=request.fhir_user).filter(
        links__can_read_record=True
    )
    exam = Exam.objects.filter(observations__public_id=wanted).values_list("public_id", flat=True)
    exams = exams_of_accounts_people(patients=people, public_id=exam.first())
    for row in exams[0].observations.all() if exams else ():
        if row.public_id == wanted:
            return fhir_response(fhir.observation(row, exams[0]))
    raise Http404


# --- The transaction Bundle of a clinic's system ---------------------------------------------


def _invalid(message: str, code: str = "invalid") -> FhirError:
    return FhirError(400, message, code=code)


@dataclass
class ReportIn:
    kind: str
    title: str
    final: bool
    encounter_id: uuid.UUID
    patient_id: uuid.UUID | None
    impression: str
    findings: str
    observations: list[dict[str, Any]] = field(default_factory=list)


def _text(value: Any, limit: int, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise _invalid(
            _("“%(field)s” is text of at most %(n)d characters.") % {"field": what, "n": limit}
        )
    return value.strip()


def _ref_id(ref: Any, resource_type: str, what: str) -> uuid.UUID:
    value = ref.get("reference") if isinstance(ref, dict) else None
    if not isinstance(value, str) or not value.startswith(f"{resource_type}/"):
        raise _invalid(
            _("“%(field)s” must reference a %(type)s.") % {"field": what, "type": resource_type},
            code="required",
        )
    try:
        return uuid.UUID(value.removeprefix(f"{resource_type}/"))
    except ValueError:
        raise FhirError(
            404, _("No such %(type)s.") % {"type": resource_type}, code="not-found"
        ) from None


def _number(value: Any, what: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(_("“%(field)s” must be a number.") % {"field": what})
    return value


def _quantity_value(quantity: Any, what: str, *, required: bool) -> Any:
    if quantity is None and not required:
        return None
    if not isinstance(quantity, dict) or "value" not in quantity:
        raise _invalid(
            _("“%(field)s” must be a Quantity with a value.") % {"field": what}, code="required"
        )
    return _number(quantity["value"], f"{what}.value")


def _observation_in(resource: dict, position: int) -> dict[str, Any]:
    where = f"Observation[{position}]"
    if resource.get("status") not in OBSERVATION_STATUSES:
        raise _invalid(
            _("%(where)s: an unknown or missing status.") % {"where": where}, code="required"
        )
    code = resource.get("code")
    if not isinstance(code, dict):
        raise _invalid(_("%(where)s: “code” is required.") % {"where": where}, code="required")
    codings = code.get("coding") if isinstance(code.get("coding"), list) else []
    loinc = next(
        (c.get("code") for c in codings if isinstance(c, dict) and c.get("system") == fhir.LOINC),
        "",
    )
    name = code.get("text") or next(
        (c.get("display") for c in codings if isinstance(c, dict) and c.get("display")), ""
    )
    quantity = resource.get("valueQuantity")
    value = _quantity_value(quantity, f"{where}.valueQuantity", required=True)
    ranges = resource.get("referenceRange") or []
    if not isinstance(ranges, list) or len(ranges) > 1:
        raise _invalid(_("%(where)s: at most one referenceRange.") % {"where": where})
    low = high = None
    if ranges:
        if not isinstance(ranges[0], dict):
            raise _invalid(_("%(where)s: referenceRange is an object.") % {"where": where})
        low = _quantity_value(ranges[0].get("low"), f"{where}.referenceRange.low", required=False)
        high = _quantity_value(
            ranges[0].get("high"), f"{where}.referenceRange.high", required=False
        )
    return {
        "code": _text(loinc, 32, f"{where}.code.coding.code"),
        "name": _text(name, 120, f"{where}.code.text"),
        "value": str(value),
        "unit": _text(quantity.get("unit"), 24, f"{where}.valueQuantity.unit"),
        "low": "" if low is None else str(low),
        "high": "" if high is None else str(high),
    }


def _findings(report: dict) -> str:
    forms = report.get("presentedForm") or []
    if not isinstance(forms, list):
        raise _invalid(_("“presentedForm” is a list."))
    for form in forms:
        if isinstance(form, dict) and str(form.get("contentType", "")).startswith("text/plain"):
            try:
                text = base64.b64decode(str(form.get("data", "")), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise _invalid(_("The findings (presentedForm) are not base64 text.")) from None
            return _text(text, 8000, "presentedForm.data")
    return ""


def _report_in(body: Any) -> ReportIn:
    """The one DiagnosticReport of the Bundle and its Observations, or a 400 saying why."""
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise _invalid(_("The request body must be a Bundle."))
    if body.get("type") != "transaction":
        raise _invalid(_("The Bundle must be of type “transaction”."))
    entries = body.get("entry")
    if not isinstance(entries, list) or not entries:
        raise _invalid(_("The Bundle has no entries."), code="required")
    reports, observations = [], {}
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        request = entry.get("request") if isinstance(entry, dict) else None
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if (
            not isinstance(request, dict)
            or request.get("method") != "POST"
            or request.get("url") != kind
        ):
            raise _invalid(
                _(
                    "Entry %(n)d: only new resources can be POSTed "
                    "(request.method POST, request.url its type)."
                )
                % {"n": index + 1}
            )
        full_url = entry.get("fullUrl")
        if kind == "DiagnosticReport":
            reports.append(resource)
        elif kind == "Observation":
            if (
                not isinstance(full_url, str)
                or not full_url.startswith("urn:uuid:")
                or full_url in observations
            ):
                raise _invalid(
                    _("Entry %(n)d: an Observation needs its own fullUrl urn:uuid:….")
                    % {"n": index + 1}
                )
            observations[full_url] = resource
        else:
            raise _invalid(
                _("Entry %(n)d: only DiagnosticReport and Observation are accepted.")
                % {"n": index + 1}
            )
    if len(reports) != 1:
        raise _invalid(_("The Bundle holds exactly one DiagnosticReport."), code="required")
    report = reports[0]
    if report.get("status") not in REPORT_STATUSES:
        raise _invalid(
            _("The DiagnosticReport's status is one of: %(s)s.") % {"s": ", ".join(REPORT_STATUSES)}
        )
    categories = report.get("category") if isinstance(report.get("category"), list) else []
    sections = [
        coding.get("code")
        for category in categories
        if isinstance(category, dict)
        for coding in (category.get("coding") if isinstance(category.get("coding"), list) else [])
        if isinstance(coding, dict) and coding.get("code") in fhir.KIND_FROM_SECTION
    ]
    if len(set(sections)) != 1:
        raise _invalid(
            _("The DiagnosticReport's category names one of: %(s)s.")
            % {"s": ", ".join(fhir.KIND_FROM_SECTION)},
            code="required",
        )
    code = report.get("code")
    if not isinstance(code, dict):
        raise _invalid(_("The DiagnosticReport's “code” is required."), code="required")
    results = report.get("result") or []
    if not isinstance(results, list):
        raise _invalid(_("“result” is a list of references."))
    referenced = [ref.get("reference") if isinstance(ref, dict) else None for ref in results]
    if sorted(map(str, referenced)) != sorted(observations):
        raise _invalid(
            _("The DiagnosticReport's “result” must reference each Observation of the Bundle once.")
        )
    subject = report.get("subject")
    return ReportIn(
        kind=fhir.KIND_FROM_SECTION[sections[0]],
        title=_text(code.get("text"), 120, "code.text"),
        final=REPORT_STATUSES[report["status"]],
        encounter_id=_ref_id(report.get("encounter"), "Encounter", "encounter"),
        patient_id=_ref_id(subject, "Patient", "subject") if subject is not None else None,
        impression=_text(report.get("conclusion"), 4000, "conclusion"),
        findings=_findings(report),
        observations=[
            _observation_in(observations[ref], position)
            for position, ref in enumerate(referenced, start=1)
        ],
    )


def _writer_hospital(request: HttpRequest) -> Hospital:
    """The hospital the token writes for, while its owner still works there (else 403)."""
    token = request.fhir_token
    hospital = Hospital.objects.filter(pk=token.scope_hospital_id, is_active=True).first()
    works_there = StaffMembership.objects.filter(
        user=request.fhir_user, hospital_id=token.scope_hospital_id, role__in=WRITER_ROLES
    ).exists()
    if hospital is None or not works_there:
        raise FhirError(
            403,
            _("This token's owner no longer works at its hospital."),
            code="forbidden",
            detail="scope",
        )
    return hospital


@fhir_endpoint("POST", authenticated=True, scope=RESULTS_WRITE_SCOPE)
def transaction(request: HttpRequest) -> HttpResponse:
    search.check_params(request, ())
    hospital = _writer_hospital(request)
    if request.content_type not in ACCEPTED_CONTENT_TYPES:
        raise FhirError(415, _("Send the Bundle as application/fhir+json."), code="not-supported")
    if len(request.body) > MAX_BODY:
        raise _invalid(_("The request is too large."), code="too-costly")
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _invalid(_("The request body is not valid JSON.")) from None
    report = _report_in(body)
    # Another hospital's visit (or none) is a 404 like any id that is not yours.
    encounter = (
        Encounter.objects.select_related("patient")
        .filter(public_id=report.encounter_id, hospital=hospital)
        .first()
    )
    if encounter is None:
        raise FhirError(404, _("No such Encounter."), code="not-found")
    if report.patient_id is not None and report.patient_id != encounter.patient.public_id:
        raise _invalid(_("The subject is not the patient of this Encounter."))
    try:
        exam = exam_import(
            encounter=encounter,
            hospital=hospital,
            by=request.fhir_user,
            kind=report.kind,
            title=report.title,
            observations=report.observations,
            findings=report.findings,
            impression=report.impression,
            final=report.final,
        )
    except ValidationError as refusal:
        # A value the rules refuse (a range whose low is above its high, too many values) is
        # an invalid Bundle like any other: 400, and nothing was saved.
        refused = getattr(refusal, "code", "") or ""
        status = 400 if refused in ("invalid", "too_many") else 422
        raise FhirError(
            status,
            " ".join(str(m) for m in refusal.messages),
            code="invalid" if status == 400 else "business-rule",
            detail=refused,
        ) from None
    audit_record(
        actor=request.fhir_user,
        action="fhir.transaction",
        target=exam,
        on_behalf_of=encounter.patient,
        data={"token_id": request.fhir_token.pk, "observations": len(report.observations)},
    )
    return _transaction_response(request, exam)


def _transaction_response(request: HttpRequest, exam: Exam) -> HttpResponse:
    observations = list(exam.observations.order_by("position", "id"))
    entries = [("DiagnosticReport", exam.public_id)] + [
        ("Observation", o.public_id) for o in observations
    ]
    base = base_url(request)
    body = {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "timestamp": fhir.instant(exam.created_at),
        "entry": [
            {
                "fullUrl": f"{base}{kind}/{public_id}",
                "response": {"status": "201 Created", "location": f"{kind}/{public_id}"},
            }
            for kind, public_id in entries
        ],
    }
    return fhir_response(body, status=200)
