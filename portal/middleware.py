from __future__ import annotations

import logging
from urllib.parse import urlencode

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from portal import sessions
from portal.access import requires_mfa

logger = logging.getLogger(__name__)


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
        user = request.user
        if (
            requires_mfa(user)
            and not request.path.startswith(self.EXEMPT_PREFIXES)
            and not is_mfa_enabled(user)
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
        if request.user.is_authenticated:
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
                    request=request,
                )
            except DatabaseError:
                logger.exception("could not write access.denied for %s", request.path[:200])
        return response
