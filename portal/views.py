from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.health import health_report


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, parts = health_report()
    down = sorted(name for name, part in parts.items() if part["status"] != "up")
    body = {"status": "ok" if healthy else "degraded", "down": down, "checks": parts}
    return JsonResponse(body, status=200 if healthy else 503)
