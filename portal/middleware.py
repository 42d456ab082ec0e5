from __future__ import annotations

import logging
from urllib.parse import urlencode

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from audit.context import audit_context_from
from audit.models import AuditEvent
from audit.services import audit_record
from portal import sessions
from portal.access import second_factor_missing

logger = logging.getLogger(__name__)


class AuditContextMiddleware:
    """Hand the audit trail the client's address and the request's id for as long as the
    request runs (audit/context.py), then take them back: services never see the request.

    Behind `TRUSTED_PROXY_COUNT` proxies the address comes from X-Forwarded-For (the entry our
    outermost proxy appended) and the id from the proxy's X-Request-ID; otherwise the peer's
    address and a new id. Sync and async: under ASGI the value reaches sync views through
    asgiref, which copies the context into their thread.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        with self.context_for(request):
            return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        with self.context_for(request):
            return await self.get_response(request)

    @staticmethod
    def context_for(request: HttpRequest):
        return audit_context_from(
            remote_addr=request.META.get("REMOTE_ADDR"),
            forwarded_for=request.headers.get("X-Forwarded-For"),
            request_id=request.headers.get("X-Request-ID"),
            trusted_proxies=settings.TRUSTED_PROXY_COUNT,
        )


class AuditContextSocketMiddleware:
    """The same for a socket (portal/asgi.py): one context for the whole connection, from the
    scope's peer address and headers, so what a consumer audits carries where it came from."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        headers = {name.decode("latin-1").lower(): value for name, value in scope["headers"]}

        def header(name: str) -> str | None:
            value = headers.get(name)
            return value.decode("latin-1") if value is not None else None

        with audit_context_from(
            remote_addr=(scope.get("client") or (None, None))[0],
            forwarded_for=header("x-forwarded-for"),
            request_id=header("x-request-id"),
            trusted_proxies=settings.TRUSTED_PROXY_COUNT,
        ):
            return await self.app(scope, receive, send)


class RequireMFAMiddleware:
    """Send an account that must have MFA but has none to TOTP set-up.

    Everything is covered except what set-up itself needs (the account and MFA pages, logout,
    the language switch, static files and the health check), so no staff page, the Django admin
    included, is ever reached on a password alone.
    """

    EXEMPT_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/healthz")

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(self.EXEMPT_PREFIXES) and second_factor_missing(
            request.user
        ):
            messages.warning(
                request,
                _(
                    "Staff accounts need two-factor authentication. "
                    "Set up an authenticator app to continue."
                ),
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)


class SessionTimeoutMiddleware:
    """Sign out a session idle too long (15 minutes for staff, 30 for patients) or older than
    the absolute limit (12 hours), whatever the person was doing (portal/sessions.py).

    Requests a page makes on its own (polling figures, the inbox badge) send
    `X-Portal-Background: 1` and never count as activity, so a tab left open still times out.
    """

    BACKGROUND_HEADER = "HTTP_X_PORTAL_BACKGROUND"

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A probe is nobody's activity, and /healthz/live must not read the session table.
        if not request.path.startswith("/healthz") and request.user.is_authenticated:
            session = request.session
            if sessions.STARTED_AT not in session:
                sessions.session_begin(session=session, user=request.user)
            reason = sessions.session_expiry_reason(session=session)
            if reason is not None:
                return self._signed_out(request, reason)
            if not request.META.get(self.BACKGROUND_HEADER):
                sessions.session_mark_active(session)
        return self.get_response(request)

    def _signed_out(self, request: HttpRequest, reason: str) -> HttpResponse:
        logout(request)
        if reason == "idle":
            text = _("You were signed out after a while without activity. Sign in again.")
        else:
            text = _("You were signed out because you signed in a long time ago. Sign in again.")
        if request.META.get(self.BACKGROUND_HEADER):
            # A page polling on its own: its next navigation lands on the sign-in form.
            return HttpResponse(status=401)
        messages.info(request, text)
        login_url = reverse(settings.LOGIN_URL)
        return redirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")


class DeniedAccessAuditMiddleware:
    """Write `access.denied` for every 403 and every 404 a signed-in account gets from a real
    route (a view that refused an object: foreign and missing look alike, on purpose).

    One INSERT, only on a refusal; a URL that matches no route is not an access to anything and
    is not written. The event names the view and the path, never the page's content.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code in (403, 404)
            and getattr(request, "resolver_match", None) is not None
            and request.user.is_authenticated
        ):
            try:
                audit_record(
                    actor=request.user,
                    action="access.denied",
                    result=AuditEvent.Result.DENIED,
                    data={
                        "view": request.resolver_match.view_name,
                        "path": request.path[:200],
                        "method": request.method,
                        "status": response.status_code,
                    },
                )
            except DatabaseError:
                logger.exception("could not write access.denied for %s", request.path[:200])
        return response


class RateLimitedMiddleware:
    """allauth raises RateLimited from inside a flow it cannot answer itself (the SMS code of a
    sign-up, a changed number): say "too many codes" with a 429, never a server error. Every
    number, with an account or without, meets the same limits and the same page."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        # Pages are sync views: the exception reaches process_exception in either mode.
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        from allauth.core.exceptions import RateLimited

        if isinstance(exception, RateLimited):
            return render(request, "429.html", status=429)
        return None
