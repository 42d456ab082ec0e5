"""Repeat prescriptions (慢病续方, issue 20): the family asks from the record
(/me/record/<person>/renewals/<prescription>/); the doctor answers from the renewal queue
(/doctor/renewals/): approve, change then sign, or ask for a visit.

Every door answers 404 to anyone it is not for: a person the account does not act for (with a
link that may book and read), a prescription that is not that person's, a request that is not
in the doctor's queue. The doctor's page is a staff read of the record and is audited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hospitals.models import Doctor
from records import selectors
from records.access import record_access, record_read_audit
from records.models import PatientLink, RenewalRequest
from records.selectors_renewals import renewable_for_family, renewal_for_handler, renewal_queue
from records.services import renewals

ITEM_FIELDS = ("dose", "frequency", "days", "quantity")


def _refusal(request: HttpRequest, refusal: ValidationError) -> None:
    messages.error(request, " ".join(str(message) for message in refusal.messages))


# --- The family's side ---------------------------------------------------------------------


def _booking_link_or_404(request: HttpRequest, public_id) -> PatientLink:
    """The account's live link to the person that reads the record and may book for them."""
    for link in selectors.record_links_for_account(account=request.user):
        if str(link.patient.public_id) == str(public_id) and link.can_book:
            return link
    raise Http404


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def renewal_request(request: HttpRequest, public_id, prescription_id) -> HttpResponse:
    """The request page: the same drugs and doses, an optional note; or why not (yet)."""
    link = _booking_link_or_404(request, public_id)
    access = record_access(user=request.user, patient=link.patient)
    row = renewable_for_family(access=access, public_id=prescription_id)
    if row is None:
        raise Http404
    encounter = row.prescription.encounter
    owner = renewals.queue_owner(encounter.doctor, encounter.department)
    if request.method == "POST":
        try:
            renewals.renewal_request(
                prescription=row.prescription,
                account=request.user,
                note=request.POST.get("note", "")[:500],
            )
        except ValidationError as refusal:
            _refusal(request, refusal)
        else:
            messages.success(
                request,
                _("Your request went to %(doctor)s. You will be told when it is answered.")
                % {"doctor": owner.display_name},
            )
        return redirect("record_patient", public_id=link.patient.public_id)
    return render(
        request,
        "records/renewals/request.html",
        {
            "patient": link.patient,
            "row": row,
            "prescription": row.prescription,
            "owner": owner,
        },
    )


# --- The doctor's side ---------------------------------------------------------------------


def _is_doctor(user: Any) -> bool:
    return Doctor.objects.filter(user_id=user.pk, is_active=True).exists()


@never_cache
@login_required
@require_GET
def renewal_queue_view(request: HttpRequest) -> HttpResponse:
    if not _is_doctor(request.user):
        raise Http404
    return render(
        request, "records/renewals/queue.html", {"waiting": renewal_queue(user=request.user)}
    )


def _handler_request_or_404(request: HttpRequest, public_id) -> RenewalRequest:
    renewal = renewal_for_handler(user=request.user, public_id=public_id)
    if renewal is None:
        raise Http404
    return renewal


@never_cache
@login_required
@require_GET
def renewal_detail(request: HttpRequest, public_id) -> HttpResponse:
    """The request beside what the doctor needs to answer it: the person, the problem, the
    last prescription, the family's note, and the way into the record."""
    renewal = _handler_request_or_404(request, public_id)
    access = record_access(user=request.user, patient=renewal.patient)
    if access.allowed:
        record_read_audit(access=access, what="renewal", target=renewal)
    return render(
        request,
        "records/renewals/detail.html",
        {
            "renewal": renewal,
            "patient": renewal.patient,
            "items": list(renewal.prescription.items.all()),
            "access": access,
            "min_message": renewals.MIN_MESSAGE,
        },
    )


def _changes(post) -> dict[int, dict[str, Any]]:
    """The change form's rows: item-<n>-dose, -frequency, -days, -quantity, -keep."""
    changes: dict[int, dict[str, Any]] = {}
    for index in range(20):
        if f"item-{index}-dose" not in post:
            continue
        row: dict[str, Any] = {name: post.get(f"item-{index}-{name}", "") for name in ITEM_FIELDS}
        row["keep"] = post.get(f"item-{index}-keep") == "on"
        changes[index] = row
    return changes


@login_required
@require_POST
def renewal_approve(request: HttpRequest, public_id) -> HttpResponse:
    """`action=approve` signs the same prescription; `action=change` signs the edited one."""
    renewal = _handler_request_or_404(request, public_id)
    changes = _changes(request.POST) if request.POST.get("action") == "change" else None
    try:
        renewals.renewal_approve(renewal=renewal, by=request.user, changes=changes)
    except ValidationError as refusal:
        _refusal(request, refusal)
        return redirect("renewal_detail", public_id=renewal.public_id)
    messages.success(request, _("Renewed and signed. The family has been told."))
    return redirect("renewal_queue")


@login_required
@require_POST
def renewal_decline(request: HttpRequest, public_id) -> HttpResponse:
    renewal = _handler_request_or_404(request, public_id)
    try:
        renewals.renewal_decline(
            renewal=renewal, by=request.user, message=request.POST.get("message", "")
        )
    except ValidationError as refusal:
        _refusal(request, refusal)
        return redirect("renewal_detail", public_id=renewal.public_id)
    messages.success(request, _("The family has been asked to book a visit."))
    return redirect("renewal_queue")
