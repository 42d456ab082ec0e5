"""Public pages: search, a doctor's page and its date strip (polled where no push arrives)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from appointments.forms.search import SearchForm
from appointments.selectors.date_strip import doctor_date_strip
from appointments.selectors.search import SearchQuery, search_doctors
from appointments.selectors.slots import doctor_public, next_free_periods
from hospitals.selectors import hospital_districts

POLL_SECONDS = 20


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None, districts=hospital_districts())
    results = None
    if form.is_bound and form.is_valid():
        results = search_doctors(query=form.search_query())
    elif not form.is_bound:
        results = search_doctors(query=SearchQuery())
    return render(request, "appointments/search.html", {"form": form, "results": results})


def _doctor_or_404(pk: int):
    doctor = doctor_public(pk=pk)
    if doctor is None:
        raise Http404
    return doctor


def _referral_param(request: HttpRequest) -> str:
    """`?referral=<public_id>` from the record's "Book with this referral", carried into the
    grid's links so the confirmation page starts with it (it re-checks the referral)."""
    try:
        return str(uuid.UUID(request.GET.get("referral", "")))
    except ValueError:
        return ""


def _chosen_day(request: HttpRequest) -> dt.date | None:
    """`?day=YYYY-MM-DD`: the day of the strip whose periods are shown (a link of the strip, or
    the page's poll carrying the day the script chose)."""
    try:
        return dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return None


@require_GET
def doctor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    doctor = _doctor_or_404(pk)
    doctor.next_free_period = next_free_periods(doctors=[doctor]).get(doctor.pk)
    return render(
        request,
        "appointments/doctor_detail.html",
        {
            "doctor": doctor,
            "hospital": doctor.hospital,
            "department": doctor.department,
            "strip": doctor_date_strip(doctor=doctor, chosen=_chosen_day(request)),
            "poll_seconds": POLL_SECONDS,
            "referral": _referral_param(request),
        },
    )


@never_cache
@require_GET
def doctor_slots(request: HttpRequest, pk: int) -> HttpResponse:
    """The grid alone: the page polls it where no push can arrive (DESIGN.md §5)."""
    doctor = _doctor_or_404(pk)
    return render(
        request,
        "appointments/includes/doctor_grid.html",
        {
            "doctor": doctor,
            "strip": doctor_date_strip(doctor=doctor, chosen=_chosen_day(request)),
            "poll_seconds": POLL_SECONDS,
            "referral": _referral_param(request),
        },
    )
