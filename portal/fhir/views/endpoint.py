"""What every FHIR view shares: `fhir_endpoint` (method check, `_format`, authentication by
session or personal access token, every error as an OperationOutcome), the search parameter
table, id parsing, and the catch-all 404."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from accounts.models import PersonalAccessToken
from accounts.services import access_token_authenticate
from portal.fhir import resources as fhir
from portal.fhir import search
from portal.fhir.search import SearchError

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
ACCOUNT_SCOPE = PersonalAccessToken.Scope.ACCOUNT
RESULTS_WRITE_SCOPE = PersonalAccessToken.Scope.RESULTS_WRITE

# Each search's parameters; the CapabilityStatement is read from this table.
SEARCH_PARAMS: dict[str, list[str]] = {
    "Organization": ["name", "_count", "_cursor"],
    "Practitioner": ["name", "_count", "_cursor"],
    "Schedule": ["actor", "_count", "_cursor"],
    "Slot": ["schedule", "start", "status", "_count", "_cursor"],
    "Appointment": ["patient", "status", "date", "_count", "_cursor"],
    "Patient": [],
    "DiagnosticReport": ["patient"],
    "Observation": ["patient"],
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
    """The account the request acts as; its token, if it sent one, is `request.fhir_token`."""
    request.fhir_token = None
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
        request.fhir_token = token
        return token.owner
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        if request.method not in SAFE_METHODS:
            _enforce_csrf(request)
        return user
    return None


def _check_scope(request: HttpRequest, scope: str) -> None:
    """A token reaches only the endpoints of its scope: a clinic's results.write token writes
    results and nothing else; the endpoints of that scope take no other credential."""
    token = request.fhir_token
    if token is None and scope == ACCOUNT_SCOPE:
        return
    if token is None or token.scope != scope:
        raise FhirError(
            403,
            _("This access token (or sign-in) may not be used here: it has another scope."),
            code="forbidden",
            detail="scope",
        )


def fhir_endpoint(*methods: str, authenticated: bool = False, scope: str = "") -> Callable:
    """Method check, `_format`, authentication, the token's scope (by default the account's
    own), and every error as an OperationOutcome."""
    scope = scope or ACCOUNT_SCOPE

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
                if user is not None:
                    _check_scope(request, scope)
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


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir/")


def int_id(value: str) -> int:
    number = search.whole_number(value)
    if number is None:
        raise Http404
    return number


def uuid_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404 from None


def searchset(request: HttpRequest, resources: list[dict], next_cursor: str | None):
    return fhir_response(
        fhir.bundle(
            resources, base=base_url(request), links=search.page_links(request, next_cursor)
        )
    )


@fhir_endpoint("GET", "POST", "PUT", "PATCH", "DELETE")
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    raise FhirError(
        404, _("This server has no such resource type or operation."), code="not-supported"
    )
