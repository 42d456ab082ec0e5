"""Patients (linked, or readable through records.access), Patient/<id>/$everything, and the
record export page of /me/record/."""

from __future__ import annotations

import uuid

from allauth.account.decorators import reauthentication_required
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET

from audit.services import audit_record
from portal.fhir import resources as fhir
from portal.fhir import search
from portal.fhir import selectors as fhir_selectors
from portal.fhir.views.endpoint import (
    SEARCH_PARAMS,
    base_url,
    fhir_endpoint,
    fhir_response,
    uuid_id,
)
from records.access import SOURCE_LINK, record_access, record_denied_audit, record_read_audit
from records.models import today_in_city
from records.selectors_results import exams_visible
from telemedicine.selectors_text import text_messages_visible


@fhir_endpoint("GET", authenticated=True)
def patient_search(request: HttpRequest) -> HttpResponse:
    search.check_params(request, SEARCH_PARAMS["Patient"])
    rows = list(fhir_selectors.patients_of_account(account=request.fhir_user))
    return fhir_response(
        fhir.bundle(
            [fhir.patient(row) for row in rows],
            base=base_url(request),
            links=search.page_links(request, None),
            total=len(rows),
        )
    )


def _patient_access(request: HttpRequest, resource_id: str, *, what: str):
    """The RecordAccess of a linked account or of a doctor with record access; 404 for
    anyone else (a signed-in account's refused read is audited)."""
    person = fhir_selectors.patient_by_public_id(public_id=uuid_id(resource_id))
    if person is None:
        raise Http404
    access = record_access(user=request.fhir_user, patient=person)
    if not access.allowed:
        record_denied_audit(user=request.fhir_user, patient=person, what=what)
        raise Http404
    record_read_audit(access=access, what=what)
    return access


@fhir_endpoint("GET", authenticated=True)
def patient_read(request: HttpRequest, resource_id: str) -> HttpResponse:
    search.check_params(request, ())
    linked = fhir_selectors.patient_linked(
        account=request.fhir_user, public_id=uuid_id(resource_id)
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
    for renewal in data.renewals:
        resources.extend(fhir.renewal_proposals(renewal))
    teams = {row.team_id: row.team for row in data.signings}
    resources.extend(fhir.care_team(team) for team in teams.values())
    today = today_in_city()
    resources.extend(fhir.episode_of_care(row, on=today) for row in data.signings)
    for exam in exams_visible(access=access, final_only=True):
        resources.extend(fhir.exam_resources(exam))
    resources.extend(fhir.communication(row) for row in text_messages_visible(access=access))
    return fhir.bundle(
        resources,
        base=base_url(request),
        links={"self": request.build_absolute_uri()},
        total=len(resources),
    )


@fhir_endpoint("GET", authenticated=True)
def patient_everything(request: HttpRequest, resource_id: str) -> HttpResponse:
    search.check_params(request, ())
    access = _patient_access(request, resource_id, what="fhir.everything")
    return fhir_response(everything_bundle(request, access))


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
    )
    response = fhir_response(body)
    response["Content-Disposition"] = (
        f'attachment; filename="record-{today_in_city().isoformat()}.json"'
    )
    add_never_cache_headers(response)
    return response
