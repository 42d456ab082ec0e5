"""The account's appointments: search, read, and booking by POST (through `appointment_book`,
so every rule applies)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from appointments.errors import BookingRefused
from appointments.selectors import appointment_by_idempotency_key
from appointments.services import appointment_book
from portal.fhir import resources as fhir
from portal.fhir import search
from portal.fhir import selectors as fhir_selectors
from portal.fhir.search import SearchError
from portal.fhir.views.endpoint import (
    SEARCH_PARAMS,
    FhirError,
    base_url,
    fhir_endpoint,
    fhir_response,
    int_id,
    searchset,
    uuid_id,
)

ACCEPTED_CONTENT_TYPES = ("application/fhir+json", "application/json")
MAX_BODY = 64 * 1024

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
    return searchset(request, [fhir.appointment(row) for row in rows], next_cursor)


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

    slot = fhir_selectors.slot_public(pk=int_id(slot_id))
    if slot is None:
        raise FhirError(404, _("No such slot."), code="not-found")
    patient = fhir_selectors.patient_linked(account=account, public_id=uuid_id(patient_id))
    if patient is None:
        raise FhirError(404, _("No such patient."), code="not-found")
    referral = None
    based_on = body.get("basedOn")
    if based_on:
        referral_id = _single_reference(based_on, "ServiceRequest", "basedOn")
        referral = fhir_selectors.referral_for_booking(
            patient=patient, public_id=uuid_id(referral_id)
        )
        if referral is None:
            raise FhirError(404, _("No such referral."), code="not-found")

    existing = appointment_by_idempotency_key(account=account, key=key)
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
    location = f"{base_url(request)}Appointment/{row.code}"
    return fhir_response(
        fhir.appointment(row),
        status=200 if existing is not None else 201,
        headers={"Location": location},
    )
