"""/me/api-tokens/results/: a clinic's system token (issue 15). It writes results (a FHIR
transaction Bundle) for visits of one hospital where the account works, and reaches nothing
else; it is created only after the account re-authenticates with its second factor, since it
writes into patients' records."""

from __future__ import annotations

import time

from allauth.account import app_settings as account_settings
from allauth.account.authentication import get_authentication_records
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import PersonalAccessToken
from accounts.services import ACCESS_TOKEN_DAYS, access_token_create
from hospitals.models import Hospital, StaffMembership

WRITER_ROLES = (StaffMembership.Role.HOSPITAL_ADMIN, StaffMembership.Role.DOCTOR)
RESULTS_WRITE = PersonalAccessToken.Scope.RESULTS_WRITE


def token_lifetimes() -> list[tuple[int, str]]:
    """The lifetimes a token may be given, as a form's choices ("30 days")."""
    return [
        (days, ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
        for days in ACCESS_TOKEN_DAYS
    ]


class ResultsTokenForm(forms.Form):
    hospital = forms.ModelChoiceField(
        label=gettext_lazy("Hospital or clinic"),
        queryset=Hospital.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": gettext_lazy("Choose a hospital from the list.")},
    )
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=60,
        help_text=gettext_lazy("The system that will use it, e.g. “lab information system”."),
    )
    days = forms.TypedChoiceField(
        label=gettext_lazy("Valid for"),
        coerce=int,
        initial=90,
        choices=token_lifetimes,
    )

    def __init__(self, *args, hospitals, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hospital"].queryset = hospitals


def writer_hospitals(*, user):
    return Hospital.objects.filter(
        memberships__user=user, memberships__role__in=WRITER_ROLES, is_active=True
    ).distinct()


def hospital_writer(*, user) -> bool:
    """Whether the account may make results tokens: a doctor or admin of a hospital."""
    return writer_hospitals(user=user).exists()


def second_factor_fresh(request: HttpRequest) -> bool:
    """The account passed its second factor within the reauthentication window."""
    now = time.time()
    return any(
        record.get("method") == "mfa"
        and now - record.get("at", 0) < account_settings.REAUTHENTICATION_TIMEOUT
        for record in get_authentication_records(request, request.user)
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def results_tokens(request: HttpRequest) -> HttpResponse:
    hospitals = writer_hospitals(user=request.user)
    if not hospitals.exists():
        raise Http404  # only staff of a hospital write its results
    form = ResultsTokenForm(request.POST or None, hospitals=hospitals)
    new_secret = None
    status = 200
    if request.method == "POST":
        if not second_factor_fresh(request):
            query = urlencode({"next": request.path})
            return redirect(f"{reverse('mfa_reauthenticate')}?{query}")
        if form.is_valid():
            try:
                _token, new_secret = access_token_create(
                    owner=request.user,
                    name=form.cleaned_data["name"],
                    days=form.cleaned_data["days"],
                    scope=RESULTS_WRITE,
                    scope_hospital_id=form.cleaned_data["hospital"].pk,
                )
            except ValidationError as error:
                form.add_error(None, error)
                status = 400
            else:
                form = ResultsTokenForm(hospitals=hospitals)
        else:
            status = 400
    names = {hospital.pk: hospital.display_name for hospital in hospitals}
    tokens = [
        token
        for token in PersonalAccessToken.objects.filter(owner=request.user, scope=RESULTS_WRITE)
        if token.is_live(timezone.now())
    ]
    for token in tokens:
        token.hospital_name = names.get(token.scope_hospital_id, "—")
    return render(
        request,
        "portal/results_tokens.html",
        {
            "form": form,
            "tokens": tokens,
            "new_secret": new_secret,
            "fhir_base": request.build_absolute_uri("/fhir/"),
        },
        status=status,
    )
