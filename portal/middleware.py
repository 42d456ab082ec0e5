from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from portal.access import requires_mfa


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
