"""/me/patients/: the people an account acts for. Every view finds the person through the
signed-in account's live links, so another account's person is a 404 on every URL."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from records import selectors, services
from records.forms import InvitationForm, PatientAddForm, PatientEditForm, return_paths
from records.models import (
    CONSENT_SUMMARIES,
    Consent,
    ConsentKind,
    GuardianInvitation,
    PatientLink,
)
from records.signals import future_appointments_count


def _link_or_404(request: HttpRequest, public_id) -> PatientLink:
    link = selectors.patient_link_for_account(account=request.user, public_id=public_id)
    if link is None:
        raise Http404
    return link


def _show_refusal(form, refusal: ValidationError) -> None:
    form.add_error(None, refusal)


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    links = list(selectors.patient_links_for_account(account=request.user))
    return render(
        request,
        "records/patient_list.html",
        {"links": links, "room_left": PatientLink.MAX_PER_ACCOUNT - len(links)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_add(request: HttpRequest) -> HttpResponse:
    """Two steps without JavaScript: the details, then the sex and birth date the ID number
    holds, shown to confirm. From a booking (`next`), back to the period once added."""
    form = PatientAddForm(request.POST or None, initial={"next": request.GET.get("next", "")})
    confirming = False
    if request.method == "POST" and form.is_valid():
        if not form.cleaned_data["confirmed"] or "change" in request.POST:
            confirming = "change" not in request.POST
        else:
            try:
                patient = services.patient_add(account=request.user, **form.details())
            except ValidationError as refusal:
                _show_refusal(form, refusal)
            else:
                messages.success(request, _("%(name)s has been added.") % {"name": patient.name})
                return redirect(form.cleaned_data["next"] or patient.get_absolute_url())
    if form.is_bound and not confirming:
        form.data = form.data.copy()
        form.data["confirmed"] = ""  # the next submit shows the derived details first
    return render(
        request,
        "records/patient_form.html",
        {"form": form, "adding": True, "confirming": confirming},
    )


@login_required
def patient_detail(request: HttpRequest, public_id) -> HttpResponse:
    link = _link_or_404(request, public_id)
    patient = link.patient
    may_manage = link.is_manager
    may_consent = link.is_manager or link.relationship == "self"
    consents = list(selectors.patient_consents(patient=patient))
    live = {consent.kind: consent for consent in consents if consent.revoked_at is None}
    # Every kind, what it means, and whether it is given now (the history follows below).
    consent_kinds = [
        {"kind": kind, "label": label, "summary": CONSENT_SUMMARIES[kind], "live": live.get(kind)}
        for kind, label in ConsentKind.choices
    ]
    return render(
        request,
        "records/patient_detail.html",
        {
            "link": link,
            "patient": patient,
            "links": list(selectors.patient_links(patient=patient)),
            "consents": consents,
            "consent_kinds": consent_kinds,
            "withdrawn_consents": [c for c in consents if c.revoked_at is not None],
            "invitations": (
                list(selectors.patient_open_invitations(patient=patient)) if may_manage else []
            ),
            "may_manage": may_manage,
            "may_consent": may_consent,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, public_id) -> HttpResponse:
    link = _link_or_404(request, public_id)
    patient = link.patient
    if not link.is_manager:
        messages.error(request, _("Only the account that manages this person can do that."))
        return redirect(patient)
    upcoming = future_appointments_count(patient=patient)
    initial = {
        "name": patient.name,
        "sex": patient.sex,
        "birth_date": patient.birth_date,
        "phone": patient.phone,
    }
    form = PatientEditForm(
        request.POST or None, initial=initial, masked_id=patient.id_number_masked
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(patient=patient, account=request.user, **form.cleaned_data)
        except ValidationError as refusal:
            _show_refusal(form, refusal)
        else:
            messages.success(request, _("The details have been saved."))
            return redirect(patient)
    return render(
        request,
        "records/patient_form.html",
        {"form": form, "adding": False, "patient": patient, "upcoming": upcoming},
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_remove(request: HttpRequest, public_id) -> HttpResponse:
    link = _link_or_404(request, public_id)
    patient = link.patient
    error = None
    if request.method == "POST":
        try:
            services.patient_remove(patient=patient, account=request.user)
        except ValidationError as refusal:
            error = refusal.messages[0]
        else:
            messages.success(
                request, _("%(name)s is no longer on your list.") % {"name": patient.name}
            )
            return redirect("patient_list")
    return render(
        request,
        "records/patient_remove.html",
        {"patient": patient, "link": link, "error": error},
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_invite(request: HttpRequest, public_id) -> HttpResponse:
    link = _link_or_404(request, public_id)
    patient = link.patient
    if not link.is_manager:
        messages.error(request, _("Only the account that manages this person can do that."))
        return redirect(patient)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _token = services.invitation_create(
                patient=patient,
                invited_by=request.user,
                base_url=request.build_absolute_uri("/").rstrip("/"),
                **form.cleaned_data,
            )
        except ValidationError as refusal:
            _show_refusal(form, refusal)
        else:
            messages.success(
                request,
                _("An invitation has been sent to %(email)s.") % {"email": invitation.email},
            )
            return redirect(patient)
    return render(request, "records/patient_invite.html", {"form": form, "patient": patient})


def _act(request: HttpRequest, patient, action, success: str) -> HttpResponse:
    try:
        action()
    except ValidationError as refusal:
        messages.error(request, refusal.messages[0])
    else:
        messages.success(request, success)
    # A page that asked for a consent (the consult room) gets the person straight back.
    return redirect(return_paths(request.POST).get("next") or patient)


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, public_id, invitation_id) -> HttpResponse:
    link = _link_or_404(request, public_id)
    invitation = get_object_or_404(
        GuardianInvitation, patient=link.patient, public_id=invitation_id
    )
    return _act(
        request,
        link.patient,
        lambda: services.invitation_revoke(invitation=invitation, by=request.user),
        _("The invitation has been withdrawn."),
    )


@login_required
@require_POST
def link_revoke(request: HttpRequest, public_id, link_id) -> HttpResponse:
    link = _link_or_404(request, public_id)
    other = get_object_or_404(selectors.patient_links(patient=link.patient), public_id=link_id)
    return _act(
        request,
        link.patient,
        lambda: services.link_revoke(link=other, by=request.user),
        _("That account can no longer act for this person."),
    )


@login_required
@require_POST
def consent_revoke(request: HttpRequest, public_id, consent_id) -> HttpResponse:
    link = _link_or_404(request, public_id)
    consent = get_object_or_404(Consent, patient=link.patient, public_id=consent_id)
    return _act(
        request,
        link.patient,
        lambda: services.consent_revoke(consent=consent, account=request.user),
        _("The consent has been withdrawn."),
    )


@login_required
@require_POST
def consent_give(request: HttpRequest, public_id) -> HttpResponse:
    link = _link_or_404(request, public_id)
    kind = request.POST.get("kind", "")
    if kind not in ConsentKind.values:
        raise Http404
    return _act(
        request,
        link.patient,
        lambda: services.consent_give(patient=link.patient, account=request.user, kind=kind),
        _("The consent has been recorded."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def invitation_respond(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_find(token)
    if invitation is None:
        raise Http404
    error = None
    if request.method == "POST":
        answer = request.POST.get("answer")
        try:
            if answer == "accept":
                services.invitation_accept(invitation=invitation, account=request.user)
                messages.success(
                    request,
                    _("You can now act for %(name)s.") % {"name": invitation.patient.name},
                )
                return redirect(invitation.patient)
            if answer == "decline":
                services.invitation_decline(invitation=invitation, account=request.user)
                messages.info(request, _("You have declined the invitation."))
                return redirect("patient_list")
            error = _("Choose to accept or decline.")
        except ValidationError as refusal:
            error = refusal.messages[0]
    return render(
        request,
        "records/invitation_respond.html",
        {"invitation": invitation, "error": error, "open": invitation.is_open()},
        status=400 if error else 200,
    )
