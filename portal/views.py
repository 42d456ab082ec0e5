from __future__ import annotations

import sys

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe
from psycopg_pool import PoolTimeout

from portal.health import health_report


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@never_cache
@require_safe  # load balancers and orchestrators probe with HEAD
def healthz(request: HttpRequest) -> HttpResponse:
    healthy, parts = health_report()
    status = 200 if healthy else 503
    if request.method == "HEAD":
        # The same checks and status as GET, and no body: not every server strips it for us.
        return HttpResponse(status=status, content_type="application/json")
    down = sorted(name for name, part in parts.items() if part["status"] != "up")
    body = {"status": "ok" if healthy else "degraded", "down": down, "checks": parts}
    return JsonResponse(body, status=status)


@never_cache
@require_safe
def healthz_live(request: HttpRequest) -> HttpResponse:
    """The liveness probe: the process answers. It asks neither the database nor Redis (an
    orchestrator that restarted web processes whenever PostgreSQL blinked would make an outage
    worse); /healthz says which of those is down. Also the bench's cheapest request."""
    return HttpResponse(b"ok\n" if request.method == "GET" else b"", content_type="text/plain")


def _database_outage(exc: BaseException | None) -> bool:
    """The database (or its connection pool) could not be reached; a bug is not an outage."""
    while exc is not None:
        if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
            return True
        if isinstance(exc, DatabaseError):
            return False  # an IntegrityError and the like: a bug, not an outage
        exc = exc.__cause__ or exc.__context__
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage is a 503 with a page saying nothing was saved (rendered
    without the request's context, which would ask the database for the user); anything else
    is Django's plain 500."""
    if _database_outage(sys.exc_info()[1]):
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        return response
    return defaults.server_error(request)
