"""/me/api-tokens/: the account's personal access tokens for the FHIR API."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from accounts.models import PersonalAccessToken
from accounts.services import access_token_create, access_token_revoke
from appointments.forms import RowChoiceForm
from portal.views_results_tokens import hospital_writer, token_lifetimes


class AccessTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=60,
        help_text=gettext_lazy("What will use it, e.g. “my health app”."),
    )
    days = forms.TypedChoiceField(
        label=gettext_lazy("Valid for"),
        coerce=int,
        initial=30,
        choices=token_lifetimes,
    )


class AccessTokenRevokeForm(RowChoiceForm):
    unknown_message = gettext_lazy("Choose a token from the list to revoke.")


def _creating(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get("action") == "create"


@never_cache
@login_required
# Creating a credential that reads the record needs a fresh sign-in; listing and revoking not.
@reauthentication_required(allow_get=True, enabled=_creating)
def access_tokens(request: HttpRequest) -> HttpResponse:
    tokens = PersonalAccessToken.objects.filter(owner=request.user)
    form = AccessTokenForm()
    new_secret = None
    status = 200
    if request.method == "POST" and request.POST.get("action") == "revoke":
        revoke = AccessTokenRevokeForm(request.POST)
        if revoke.is_valid():
            token = get_object_or_404(tokens, pk=revoke.cleaned_data["token"])
            access_token_revoke(token=token, by=request.user)
            messages.success(request, _("Token revoked: apps using it can no longer connect."))
            return redirect("access_tokens")
        messages.error(request, revoke.errors["token"][0])
        status = 400
    elif request.method == "POST":
        form = AccessTokenForm(request.POST)
        if form.is_valid():
            try:
                _token, new_secret = access_token_create(
                    owner=request.user,
                    name=form.cleaned_data["name"],
                    days=form.cleaned_data["days"],
                )
                form = AccessTokenForm()
            except ValidationError as error:
                form.add_error(None, error)
    now = timezone.now()
    live = [token for token in tokens if token.is_live(now)]
    return render(
        request,
        "portal/access_tokens.html",
        {
            "form": form,
            "live_tokens": live,
            "new_secret": new_secret,
            "fhir_base": request.build_absolute_uri("/fhir/"),
            # Staff of a hospital also make tokens for its systems (issue 15).
            "writes_results": hospital_writer(user=request.user),
        },
        status=status,
    )
