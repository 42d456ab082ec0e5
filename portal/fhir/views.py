"""The FHIR R4 API under /fhir/ (DESIGN.md §4) and the patient's record export.

Public: metadata, Organization, Location, Practitioner, Schedule, Slot. Authenticated (the
site's session, or a personal access token sent as `Authorization: Bearer …`): Appointment
(the account's own; POST books through `appointment_book`), Patient (linked) and
Patient/<id>/$everything (through records.access). Every answer is `application/fhir+json`;
every error an OperationOutcome; a foreign or unknown id is a 404 that says no more.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account.decorators import reauthentication_required
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from accounts.services import access_token_authenticate
from appointments.errors import BookingRefused
from appointments.models import Appointment
from appointments.services import appointment_book
from audit.services import audit_record
from portal.fhir import resources as fhir
from portal.fhir import search
from portal.fhir import selectors as fhir_selectors
from portal.fhir.search import SearchError
from records.access import SOURCE_LINK, record_access, record_denied_audit, record_read_audit
from records.models import today_in_city

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
ACCEPTED_CONTENT_TYPES = ("application/fhir+json", "application/json")
MAX_BODY = 64 * 1024

# Each search's parameters; the CapabilityStatement is read from this table.
SEARCH_PARAMS: dict[str, list[str]] = {
    "Organization": ["name", "_count", "_cursor"],
    "Practitioner": ["name", "_count", "_cursor"],
    "Schedule": ["actor", "_count", "_cursor"],
    "Slot": ["schedule", "start", "status", "_count", "_cursor"],
    "Appointment": ["patient", "status", "date", "_count", "_cursor"],
    "Patient": [],
}

# How each booking refusal answers: conflicts with the slot's state are 409, the person's and
# account's rules 422 (FHIR's business-rule), an account that may not book for a linked
# person 403.
REFUSAL_STATUS = {
    "slot_full": (409, "conflict"),
    "closed": (409, "conflict"),
    "started": (409, "conflict"),
    "not_released": (409, "conflict"),
    "already_booked": (409, "duplicate"),
    "not_linked": (403, "forbidden"),
}


class FhirError(Exception):
    def __init__(
        self,
        status: int,
        diagnostics: str,
        *,
        code: str = "processing",
        detail: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.diagnostics = diagnostics
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        super().__init__(diagnostics)


def fhir_response(resource: dict, *, status: int = 200, headers: dict | None = None):
    response = HttpResponse(
        json.dumps(resource, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type=f"{fhir.FHIR_JSON}; charset=utf-8",
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _outcome(error: FhirError) -> HttpResponse:
    return fhir_response(
        fhir.operation_outcome(error.diagnostics, code=error.code, detail=error.detail),
        status=error.status,
        headers=error.headers,
    )


def _not_found() -> FhirError:
    return FhirError(404, _("No such resource."), code="not-found")


def _unauthorized(message: str, error: str = "") -> FhirError:
    challenge = 'Bearer realm="fhir"'
    if error:
        challenge += f', error="{error}"'
    return FhirError(401, message, code="login", headers={"WWW-Authenticate": challenge})


def _enforce_csrf(request: HttpRequest) -> None:
    """A signed-in browser session is the one credential a page on another site can borrow:
    its writes need the CSRF token as any form does. Bearer requests carry their own."""
    check = CsrfViewMiddleware(lambda _request: HttpResponse())
    check.process_request(request)
    if check.process_view(request, None, (), {}) is not None:
        raise FhirError(
            403,
            _("CSRF check failed: send the page's CSRF token, or use an access token."),
            code="forbidden",
        )


def _authenticate(request: HttpRequest) -> Any | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _space, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise _unauthorized(
                _("Send the access token as “Authorization: Bearer <token>”."), "invalid_request"
            )
        token = access_token_authenticate(secret=secret.strip())
        if token is None:
            raise _unauthorized(
                _("The access token is not valid: it is unknown, revoked or expired."),
                "invalid_token",
            )
        return token.owner
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        if request.method not in SAFE_METHODS:
            _enforce_csrf(request)
        return user
    return None


def fhir_endpoint(*methods: str, authenticated: bool = False) -> Callable:
    """Method check, `_format`, authentication, and every error as an OperationOutcome."""

    def decorator(view: Callable) -> Callable:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise FhirError(
                        405,
                        _("This address does not accept %(method)s.") % {"method": request.method},
                        code="not-supported",
                        headers={"Allow": ", ".join(methods)},
                    )
                formats = request.GET.getlist("_format")
                if any(value not in search.JSON_FORMATS for value in formats):
                    raise FhirError(406, _("This server speaks JSON only."), code="not-supported")
                user = _authenticate(request)
                if authenticated and user is None:
                    raise _unauthorized(
                        _("Sign in, or send a personal access token as “Authorization: Bearer …”.")
                    )
                request.fhir_user = user
                response = view(request, **kwargs)
            except FhirError as error:
                response = _outcome(error)
            except SearchError as error:
                response = _outcome(FhirError(400, error.message, code="invalid"))
            except Http404:
                response = _outcome(_not_found())
            patch_vary_headers(response, ("Authorization", "Cookie", "Accept-Language"))
            if authenticated:
                add_never_cache_headers(response)
            return response

        return wrapper

    return decorator


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir/")


def _int_id(value: str) -> int:
    number = search.whole_number(value)
    if number is None:
        raise Http404
    return number


def _uuid_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404 from None


def _searchset(request: HttpRequest, resources: list[dict], next_cursor: str | None):
    return fhir_response(
        fhir.bundle(resources, base=_base(request), links=search.page_links(request, next_cursor))
    )


# --- Public -----------------------------------------------------------------------------------


@fhir_endpoint("GET")
def metadata(request: HttpRequest) -> HttpResponse:
    search.check_params(request, ())
    return fhir_response(
        fhir.capability_statement(base=_base(request), search_params=SEARCH_PARAMS)
    )


def _name_filter(request: HttpRequest) -> Q:
    names = search.values(request, "name")
    either = Q()
    for name in names:
        either |= Q(name__icontains=name) | Q(name_en__icontains=name)
    return either


@fhir_endpoint("GET")
def organization_search(request: HttpRequest) -> HttpResponse:
    search.check_params(request, SEARCH_PARAMS["Organization"])
    size = search.count(request)
    rows = (
        fhir_selectors.hospitals_public()
        .filter(_name_filter(request))
        .filter(search.pk_cursor_filter(search.cursor(request)))[: size + 1]
    )
    rows, next_cursor = search.page(rows, size=size, key=lambda row: str(row.pk))
    return _searchset(request, [fhir.organization(row) for row in rows], next_cursor)


@fhir_endpoint("GET")
def organization_read(request: HttpRequest, resource_id: str) -> HttpResponse:
    search.check_params(request, ())
    row = fhir_selectors.hospitals_public().filter(pk=_int_id(resource_id)).first()
    if row is None:
        raise Http404
    return fhir_response(fhir.organization(row))


@fhir_endpoint("GET")
def location_read(request: HttpRequest, resource_id: str) -> HttpResponse:
    search.check_params(request, ())
    row = fhir_selectors.hospitals_public().filter(pk=_int_id(resource_id)).first()
    if row is None:
        raise Http404
    return fhir_response(fhir.location(row))


@fhir_endpoint("GET")
def practitioner_search(request: HttpRequest) -> HttpResponse:
    search.check_params(request, SEARCH_PARAMS["Practitioner"])
    size = search.count(request)
    rows = (
        fhir_selectors.doctors_public()
        .filter(_name_filter(request))
        .filter(search.pk_cursor_filter(search.cursor(request)))[: size + 1]
    )
    rows, next_cursor = search.page(rows, size=size, key=lambda row: str(row.pk))
    return _searchset(request, [fhir.practitioner(row) for row in rows], next_cursor)


@fhir_endpoint("GET")
def practitioner_read(request: HttpRequest, resource_id: str) -> HttpResponse:
    search.check_params(request, ())
    row = fhir_selectors.doctors_public().filter(pk=_int_id(resource_id)).first()
    if row is None:
        raise Http404
    return fhir_response(fhir.practitioner(row))


def _schedule_key(value: str) -> tuple[int, int]:
    doctor_id, _dash, site_id = value.partition("-")
    pair = search.whole_number(doctor_id), search.whole_number(site_id)
    if None in pair:
        raise Http404
    return pair


def _schedule_resources(pairs: list[tuple[int, int]]) -> list[dict]:
    doctors = {
        row.pk: row for row in fhir_selectors.doctors_public().filter(pk__in={d for d, _s in pairs})
    }
    sites = {
        row.pk: row
        for row in fhir_selectors.hospitals_public().filter(pk__in={s for _d, s in pairs})
    }
    return [fhir.schedule(doctors[d], sites[s]) for d, s in pairs if d in doctors and s in sites]


@fhir_endpoint("GET")
def schedule_search(request: HttpRequest) -> HttpResponse:
    search.check_params(request, SEARCH_PARAMS["Schedule"])
    size = search.count(request)
    doctor_ids = None
    site_ids = None
    for value in search.values(request, "actor"):
        kind, _slash, ident = value.partition("/")
        number = search.whole_number(ident)
        if kind not in ("Practitioner", "Location") or number is None:
            raise SearchError(
                _("“actor” takes Practitioner/<id> or Location/<id>, not “%(value)s”.")
                % {"value": value}
            )
        if kind == "Practitioner":
            doctor_ids = (doctor_ids or []) + [number]
        else:
            site_ids = (site_ids or set()) | {number}
    pairs = fhir_selectors.schedule_pairs(doctor_ids=doctor_ids)
    if site_ids is not None:
        pairs = [pair for pair in pairs if pair[1] in site_ids]
    raw = search.cursor(request)
    if raw is not None:
        after = _schedule_key(raw) if "-" in raw else None
        if after is None:
            raise SearchError(_("This page link is not valid; start the search again."))
        pairs = [pair for pair in pairs if pair > after]
    pairs, next_cursor = search.page(
        pairs[: size + 1], size=size, key=lambda pair: fhir.schedule_id(*pair)
    )
    return _searchset(request, _schedule_resources(pairs), next_cursor)


@fhir_endpoint("GET")
def schedule_read(request: HttpRequest, resource_id: str) -> HttpResponse:
    search.check_params(request, ())
    doctor_id, site_id = _schedule_key(resource_id)
    if not fhir_selectors.schedule_exists(doctor_id=doctor_id, site_id=site_id):
        raise Http404
    found = _schedule_resources([(doctor_id, site_id)])
    if not found:
        raise Http404
    return fhir_response(found[0])


@fhir_endpoint("GET")
def slot_search(request: HttpRequest) -> HttpResponse:
    search.check_params(request, SEARCH_PARAMS["Slot"], sort_keys=("start",))
    size = search.count(request)
    schedules = []
    for value in search.values(request, "schedule"):
        ident = search.reference_id(value, "Schedule")
        doctor_id, _dash, site_id = ident.partition("-")
        pair = search.whole_number(doctor_id), search.whole_number(site_id)
        if None in pair:
            raise SearchError(_("“%(value)s” is not a Schedule id.") % {"value": value})
        schedules.append(pair)
    statuses = search.values(request, "status")
    for status in statuses:
        if status not in fhir.SLOT_STATUSES:
            raise SearchError(
                _("Unknown slot status “%(status)s”; use one of: %(statuses)s.")
                % {"status": status, "statuses": ", ".join(fhir.SLOT_STATUSES)}
            )
    now = timezone.now()
    query = fhir_selectors.SlotQuery(
        schedules=schedules,
        statuses=statuses,
        start_filters=search.date_filters(request, "start", "start"),
    )
    rows = fhir_selectors.slots_search(query=query, now=now).filter(
        search.time_cursor_filter(search.cursor(request), "start")
    )[: size + 1]
    rows, next_cursor = search.page(
        rows, size=size, key=lambda row: search.time_cursor(row.start, row.pk)
    )
    return _searchset(request, [fhir.slot(row, now=now) for row in rows], next_cursor)


@fhir_endpoint("GET")
def slot_read(request: HttpRequest, resource_id: str) -> HttpResponse:
    search.check_params(request, ())
    row = fhir_selectors.slot_public(pk=_int_id(resource_id))
    if row is None:
        raise Http404
    return fhir_response(fhir.slot(row, now=timezone.now()))


# --- Authenticated ------------------------------------------------------------------------------


@fhir_endpoint("GET", "POST", authenticated=True)
def appointment_collection(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _appointment_create(request)
    search.check_params(request, SEARCH_PARAMS["Appointment"], sort_keys=("date",))
    size = search.count(request)
    rows = fhir_selectors.appointments_of_account(account=request.fhir_user)
    patient_ids = [
        _uuid_or_none(search.reference_id(value, "Patient"))
        for value in search.values(request, "patient")
    ]
    if patient_ids:
        rows = rows.filter(patient__public_id__in=[p for p in patient_ids if p is not None])
    statuses = []
    for value in search.values(request, "status"):
        if value not in fhir.APPOINTMENT_STATUS_FROM_FHIR:
            raise SearchError(
                _("Unknown appointment status “%(status)s”; use one of: %(statuses)s.")
                % {"status": value, "statuses": ", ".join(fhir.APPOINTMENT_STATUS_FROM_FHIR)}
            )
        statuses.append(fhir.APPOINTMENT_STATUS_FROM_FHIR[value])
    if statuses:
        rows = rows.filter(status__in=statuses)
    for condition in search.date_filters(request, "date", "slot__start"):
        rows = rows.filter(condition)
    raw = search.cursor(request)
    rows = rows.filter(search.time_cursor_filter(raw, "slot__start")).order_by("slot__start", "pk")[
        : size + 1
    ]
    rows, next_cursor = search.page(
        rows, size=size, key=lambda row: search.time_cursor(row.slot.start, row.pk)
    )
    return _searchset(request, [fhir.appointment(row) for row in rows], next_cursor)


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@fhir_endpoint("GET", authenticated=True)
def appointment_read(request: HttpRequest, resource_id: str) -> HttpResponse:
    search.check_params(request, ())
    row = (
        fhir_selectors.appointments_of_account(account=request.fhir_user)
        .filter(code=resource_id)
        .first()
    )
    if row is None:
        raise Http404
    return fhir_response(fhir.appointment(row))


def _invalid(message: str, code: str = "invalid") -> FhirError:
    return FhirError(400, message, code=code)


def _single_reference(items: Any, resource_type: str, field: str) -> str:
    """The id of the one `resource_type` reference among `items` (dicts with a reference)."""
    found = []
    for item in items if isinstance(items, list) else []:
        ref = item.get("reference") if isinstance(item, dict) else None
        if isinstance(ref, str) and ref.startswith(f"{resource_type}/"):
            found.append(ref.removeprefix(f"{resource_type}/"))
    if len(found) != 1 or not found[0] or "/" in found[0]:
        raise _invalid(
            _("The Appointment needs exactly one %(type)s reference in “%(field)s”.")
            % {"type": resource_type, "field": field},
            code="required",
        )
    return found[0]


def _appointment_create(request: HttpRequest) -> HttpResponse:
    """POST an Appointment naming a Slot and a linked Patient (and, optionally, a referral as
    basedOn ServiceRequest/<id>): booked through appointment_book, so every rule applies."""
    account = request.fhir_user
    search.check_params(request, ())
    if request.content_type not in ACCEPTED_CONTENT_TYPES:
        raise FhirError(
            415, _("Send the Appointment as application/fhir+json."), code="not-supported"
        )
    if len(request.body) > MAX_BODY:
        raise _invalid(_("The request is too large."), code="too-costly")
    try:
        body = json.loads(request.body or b"null")
    # RecursionError is how the parser says a document nests deeper than it goes ("[" * 10000
    # is 10 KB): no Appointment nests like that, so it is a malformed request like any other.
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _invalid(_("The request body is not valid JSON.")) from None
    if not isinstance(body, dict) or body.get("resourceType") != "Appointment":
        raise _invalid(_("The request body must be an Appointment resource."))
    if body.get("status", "booked") not in ("proposed", "pending", "booked"):
        raise _invalid(_("A new appointment can only be requested as “booked”."))
    slot_id = _single_reference(body.get("slot"), "Slot", "slot")
    # Read a member as a list only when it is one: a number or a string there is a request
    # that names no patient, the same 400 as a missing participant.
    participants = body.get("participant")
    patient_id = _single_reference(
        [p.get("actor") for p in participants if isinstance(p, dict)]
        if isinstance(participants, list)
        else None,
        "Patient",
        "participant.actor",
    )
    visit_reason = body.get("comment", "")
    if not isinstance(visit_reason, str) or len(visit_reason) > 300:
        raise _invalid(_("“comment” (the reason for the visit) is text of at most 300 characters."))
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 64:
        raise _invalid(_("The Idempotency-Key header is at most 64 characters."))

    slot = fhir_selectors.slot_public(pk=_int_id(slot_id))
    if slot is None:
        raise FhirError(404, _("No such slot."), code="not-found")
    patient = fhir_selectors.patient_linked(account=account, public_id=_uuid_id(patient_id))
    if patient is None:
        raise FhirError(404, _("No such patient."), code="not-found")
    referral = None
    based_on = body.get("basedOn")
    if based_on:
        referral_id = _single_reference(based_on, "ServiceRequest", "basedOn")
        referral = fhir_selectors.referral_for_booking(
            patient=patient, public_id=_uuid_id(referral_id)
        )
        if referral is None:
            raise FhirError(404, _("No such referral."), code="not-found")

    existing = None
    if key:
        existing = Appointment.objects.filter(booked_by=account, idempotency_key=key).first()
    try:
        booked = appointment_book(
            patient=patient,
            slot=slot,
            booked_by=account,
            idempotency_key=key or None,
            referral=referral,
            visit_reason=visit_reason.strip(),
        )
    except BookingRefused as refusal:
        status, code = REFUSAL_STATUS.get(refusal.code, (422, "business-rule"))
        raise FhirError(status, str(refusal.message), code=code, detail=refusal.code) from None
    row = fhir_selectors.appointments_of_account(account=account).get(pk=booked.pk)
    location = f"{_base(request)}Appointment/{row.code}"
    return fhir_response(
        fhir.appointment(row),
        status=200 if existing is not None else 201,
        headers={"Location": location},
    )


@fhir_endpoint("GET", authenticated=True)
def patient_search(request: HttpRequest) -> HttpResponse:
    search.check_params(request, SEARCH_PARAMS["Patient"])
    rows = list(fhir_selectors.patients_of_account(account=request.fhir_user))
    return fhir_response(
        fhir.bundle(
            [fhir.patient(row) for row in rows],
            base=_base(request),
            links=search.page_links(request, None),
            total=len(rows),
        )
    )


def _patient_access(request: HttpRequest, resource_id: str, *, what: str):
    """The RecordAccess of a linked account or of a doctor with record access; 404 for
    anyone else (a signed-in account's refused read is audited)."""
    person = fhir_selectors.patient_by_public_id(public_id=_uuid_id(resource_id))
    if person is None:
        raise Http404
    access = record_access(user=request.fhir_user, patient=person)
    if not access.allowed:
        record_denied_audit(user=request.fhir_user, patient=person, what=what, request=request)
        raise Http404
    record_read_audit(access=access, what=what, request=request)
    return access


@fhir_endpoint("GET", authenticated=True)
def patient_read(request: HttpRequest, resource_id: str) -> HttpResponse:
    search.check_params(request, ())
    linked = fhir_selectors.patient_linked(
        account=request.fhir_user, public_id=_uuid_id(resource_id)
    )
    if linked is not None:
        return fhir_response(fhir.patient(linked))
    access = _patient_access(request, resource_id, what="fhir.patient")
    return fhir_response(fhir.patient(access.patient))


def everything_bundle(request: HttpRequest, access) -> dict:
    data = fhir_selectors.patient_everything(access=access)
    person = data.patient
    resources = [fhir.patient(person)]
    for item in data.timeline.encounters:
        item.patient = person
        resources.append(fhir.encounter(item))
        for note in item.notes.all():
            if not note.is_signed:
                continue  # a draft is the doctor's work in progress, not yet the record
            resources.append(fhir.note_document(note, item))
            resources.extend(
                fhir.addendum_document(addendum, note, item) for addendum in note.addenda.all()
            )
        for prescription in item.prescriptions.all():
            if prescription.signed_at is not None:
                resources.extend(fhir.medication_requests(prescription, item))
    resources.extend(fhir.allergy_intolerance(row, person) for row in data.timeline.allergies)
    resources.extend(fhir.condition(row, person) for row in data.timeline.problems)
    resources.extend(fhir.service_request(row, person) for row in data.referrals)
    resources.extend(fhir.appointment(row) for row in data.appointments)
    return fhir.bundle(
        resources,
        base=_base(request),
        links={"self": request.build_absolute_uri()},
        total=len(resources),
    )


@fhir_endpoint("GET", authenticated=True)
def patient_everything(request: HttpRequest, resource_id: str) -> HttpResponse:
    search.check_params(request, ())
    access = _patient_access(request, resource_id, what="fhir.everything")
    return fhir_response(everything_bundle(request, access))


@fhir_endpoint("GET", "POST", "PUT", "PATCH", "DELETE")
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    raise FhirError(
        404, _("This server has no such resource type or operation."), code="not-supported"
    )


# --- The record export (a page of /me/record/) --------------------------------------------------


@require_GET
@login_required
@reauthentication_required
def record_export(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The person's record as the $everything Bundle, as a file. Only accounts that read the
    record through their link (not staff); a fresh sign-in (5 minutes) first; audited."""
    person = fhir_selectors.patient_by_public_id(public_id=public_id)
    if person is None:
        raise Http404
    access = record_access(user=request.user, patient=person)
    if access.reason != SOURCE_LINK:
        raise Http404
    body = everything_bundle(request, access)
    audit_record(
        actor=request.user,
        action="record.export",
        target=person,
        on_behalf_of=person,
        data={"format": "fhir-r4-bundle", "entries": body.get("total", 0)},
        request=request,
    )
    response = fhir_response(body)
    response["Content-Disposition"] = (
        f'attachment; filename="record-{today_in_city().isoformat()}.json"'
    )
    add_never_cache_headers(response)
    return response
