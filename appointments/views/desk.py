"""The front desk (issue 8): find an appointment by code or QR and check the patient in, the
day's queue per doctor, the waiting-room display, and an adult taking over their own record.

Only front-desk and hospital-admin members of a hospital (and platform admins) reach these
pages; for anyone else, and for another hospital's display, they do not exist (404). They show
appointments and masked IDs, never clinical content.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from appointments.errors import BookingRefused, OnlineNoDesk
from appointments.forms.desk import ClaimSelfForm, DeskLookupForm
from appointments.models import Appointment, Mode
from appointments.policies import slot_local_day
from appointments.selectors.desk import desk_appointment, desk_queue_board, display_board
from appointments.services.status import appointment_check_in
from appointments.views.decorators import desk_page
from hospitals.when import format_day
from records.selectors import account_by_email_or_phone, patient_by_identity
from records.services import DETAILS_MISMATCH, patient_claim_self

QUEUE_POLL_SECONDS = 20
DISPLAY_POLL_SECONDS = 15


def _chosen_hospital(request: HttpRequest, hospitals: list):
    """The desk's hospital: `?hospital=<slug>` among the desk's own, else the first."""
    wanted = request.GET.get("hospital", "")
    for hospital in hospitals:
        if hospital.slug == wanted:
            return hospital
    return hospitals[0]


def _hospital_or_404(hospitals: list, slug: str):
    for hospital in hospitals:
        if hospital.slug == slug:
            return hospital
    raise Http404


def lookup_state(appointment: Appointment, *, now) -> dict:
    """What the desk may do with a found appointment, and the sentence that says why not."""
    status = appointment.status
    slot = appointment.slot
    if status == Appointment.Status.CANCELLED:
        return {"level": "error", "text": _("This appointment was cancelled: no check-in.")}
    if status == Appointment.Status.NO_SHOW:
        return {"level": "error", "text": _("This appointment was missed: no check-in.")}
    if status == Appointment.Status.COMPLETED:
        return {"level": "info", "text": _("This visit is over.")}
    if status == Appointment.Status.IN_CONSULT:
        return {"level": "info", "text": _("The patient is with the doctor now.")}
    if status == Appointment.Status.CHECKED_IN:
        at = timezone.localtime(appointment.checked_in_at, slot.site.zone).strftime("%H:%M")
        if appointment.queue_number:
            text = _("Already checked in at %(time)s, queue number %(number)s.") % {
                "time": at,
                "number": appointment.queue_label,
            }
        else:
            text = _("Already checked in at %(time)s.") % {"time": at}
        return {"level": "success", "text": text}
    if slot.mode != Mode.IN_PERSON:
        return {"level": "error", "text": str(OnlineNoDesk().message)}
    day = slot_local_day(slot)
    if now.astimezone(slot.site.zone).date() != day:
        return {
            "level": "error",
            "text": _("This appointment is on %(day)s: check-in opens on that day.")
            % {"day": format_day(day)},
        }
    return {"level": "", "text": "", "can_check_in": True}


@desk_page
@require_GET
def desk(request: HttpRequest, hospitals) -> HttpResponse:
    hospital = _chosen_hospital(request, hospitals)
    form = DeskLookupForm(request.GET if "code" in request.GET else None)
    appointment = None
    not_found = False
    state = None
    now = timezone.now()
    if form.is_bound and form.is_valid():
        appointment = desk_appointment(user=request.user, code=form.cleaned_data["code"])
        not_found = appointment is None
        if appointment is not None:
            state = lookup_state(appointment, now=now)
    if state and state.get("can_check_in"):
        # Enter (or the scanner's Enter) now checks in: focus moves to that button.
        form.fields["code"].widget.attrs.pop("autofocus", None)
    return render(
        request,
        "appointments/desk.html",
        {
            "form": form,
            "hospitals": hospitals,
            "hospital": hospital,
            "appointment": appointment,
            "state": state,
            "not_found": not_found,
            "board": desk_queue_board(hospital=hospital, now=now),
            "poll_seconds": QUEUE_POLL_SECONDS,
            "now": now,
        },
    )


@never_cache
@desk_page
@require_GET
def desk_queue(request: HttpRequest, hospitals) -> HttpResponse:
    """The queue board alone: the desk page polls it."""
    hospital = _chosen_hospital(request, hospitals)
    return render(
        request,
        "appointments/includes/desk_queue.html",
        {"hospital": hospital, "board": desk_queue_board(hospital=hospital)},
    )


@desk_page
@require_POST
def desk_check_in(request: HttpRequest, hospitals) -> HttpResponse:
    form = DeskLookupForm(request.POST)
    if not form.is_valid():
        return redirect("desk")
    appointment = desk_appointment(user=request.user, code=form.cleaned_data["code"])
    if appointment is None:
        raise Http404
    try:
        appointment = appointment_check_in(appointment=appointment, by=request.user, at_desk=True)
    except BookingRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _("%(name)s is checked in: queue number %(number)s.")
            % {"name": appointment.patient.name, "number": appointment.queue_label},
        )
    back = f"{reverse('desk')}?code={appointment.code}&hospital={appointment.slot.site.slug}"
    return redirect(back)


@desk_page
@require_GET
def desk_display(request: HttpRequest, hospitals, slug: str) -> HttpResponse:
    """The waiting-room display of one hospital (a TV): numbers called and masked names."""
    hospital = _hospital_or_404(hospitals, slug)
    return render(
        request,
        "appointments/desk_display.html",
        {
            "hospital": hospital,
            "lines": display_board(hospital=hospital),
            "poll_seconds": DISPLAY_POLL_SECONDS,
        },
    )


@never_cache
@desk_page
@require_GET
def desk_display_board(request: HttpRequest, hospitals, slug: str) -> HttpResponse:
    hospital = _hospital_or_404(hospitals, slug)
    return render(
        request,
        "appointments/includes/display_board.html",
        {"hospital": hospital, "lines": display_board(hospital=hospital)},
    )


@desk_page
@require_http_methods(["GET", "POST"])
def desk_claim_self(request: HttpRequest, hospitals) -> HttpResponse:
    """Staff read the ID card in person, then hand the person's record to their own account
    (records.services.patient_claim_self, which audits it)."""
    form = ClaimSelfForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        patient = patient_by_identity(
            name=data["name"], id_number=data["id_number"], birth_date=data["birth_date"]
        )
        account = account_by_email_or_phone(data["account"])
        if patient is None:
            form.add_error(None, DETAILS_MISMATCH)
        elif account is None:
            form.add_error(
                "account",
                _(
                    "No account has this e-mail address or verified mobile number. The person "
                    "registers first (and verifies it), then comes back."
                ),
            )
        else:
            try:
                patient_claim_self(patient=patient, account=account, verified_by=request.user)
            except ValidationError as refused:
                for message in refused.messages:
                    form.add_error(None, message)
            else:
                messages.success(
                    request,
                    _(
                        "%(name)s now manages their own record from the account %(account)s. "
                        "Earlier family links stay until they revoke them."
                    )
                    % {"name": patient.name, "account": data["account"]},
                )
                return redirect("desk_claim_self")
    return render(request, "appointments/desk_claim.html", {"form": form, "hospitals": hospitals})
