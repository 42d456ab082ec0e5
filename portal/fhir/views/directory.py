"""The public directory: metadata, Organization, Location, Practitioner, Schedule, Slot."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.fhir import resources as fhir
from portal.fhir import search
from portal.fhir import selectors as fhir_selectors
from portal.fhir.search import SearchError
from portal.fhir.views.endpoint import (
    SEARCH_PARAMS,
    base_url,
    fhir_endpoint,
    fhir_response,
    int_id,
    searchset,
)


@fhir_endpoint("GET")
def metadata(request: HttpRequest) -> HttpResponse:
    search.check_params(request, ())
    return fhir_response(
        fhir.capability_statement(base=base_url(request), search_params=SEARCH_PARAMS)
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
    return searchset(request, [fhir.organization(row) for row in rows], next_cursor)


@fhir_endpoint("GET")
def organization_read(request: HttpRequest, resource_id: str) -> HttpResponse:
    search.check_params(request, ())
    row = fhir_selectors.hospitals_public().filter(pk=int_id(resource_id)).first()
    if row is None:
        raise Http404
    return fhir_response(fhir.organization(row))


@fhir_endpoint("GET")
def location_read(request: HttpRequest, resource_id: str) -> HttpResponse:
    search.check_params(request, ())
    row = fhir_selectors.hospitals_public().filter(pk=int_id(resource_id)).first()
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
    return searchset(request, [fhir.practitioner(row) for row in rows], next_cursor)


@fhir_endpoint("GET")
def practitioner_read(request: HttpRequest, resource_id: str) -> HttpResponse:
    search.check_params(request, ())
    row = fhir_selectors.doctors_public().filter(pk=int_id(resource_id)).first()
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
    return searchset(request, _schedule_resources(pairs), next_cursor)


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
    return searchset(request, [fhir.slot(row, now=now) for row in rows], next_cursor)


@fhir_endpoint("GET")
def slot_read(request: HttpRequest, resource_id: str) -> HttpResponse:
    search.check_params(request, ())
    row = fhir_selectors.slot_public(pk=int_id(resource_id))
    if row is None:
        raise Http404
    return fhir_response(fhir.slot(row, now=timezone.now()))
