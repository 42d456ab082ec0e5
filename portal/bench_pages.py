"""The baseline of bench/http_rush.py: a page pair that does what the booking pages do minus
the booking — a signed-in GET that renders a form with a CSRF token in the site's shell, and a
POST that checks the token and redirects. Routed only when `BENCH_NOOP_PAGES` is on (the bench
starts its servers with it); never in production."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods


@login_required
@require_http_methods(["GET", "POST"])
def bench_noop(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return redirect("bench_noop")
    return render(request, "portal/bench_noop.html")
