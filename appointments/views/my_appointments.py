"""An account's appointments: the list, one appointment (its history, QR code and a stopped
clinic's offers), its .ics, and the personal calendar feed and its links. Another account's
appointment is a 404."""

from __future__ import annotations

import datetime as dt

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from appointments.forms.console import FeedLinkRevokeForm
from appointments.ics import appointment_ics, personal_feed_ics
from appointments.models import CalendarToken, Mode
from appointments.selectors.alternatives import offer_used
from appointments.selectors.appointments import appointments_upcoming_and_past
from appointments.selectors.calendar import appointments_for_feed, calendar_token_live
from appointments.services.calendar import (
    calendar_token_issue,
    calendar_token_mark_used,
    calendar_token_revoke,
)
from appointments.services.messages import offers as closure_offers_for
from appointments.views.decorators import account_appointment
from audit.labels import action_sentence
from audit.selectors import audit_events_for

# What the appointment's history says for each action the booking services audit
# (`appointment.<new status>` for the status machine; a cancellation says why in data["why"]).
HISTORY_LABELS = {
    "appointment.book": gettext_lazy("Booked"),
    "appointment.checked_in": gettext_lazy("Checked in"),
    "appointment.in_consult": gettext_lazy("Consultation started"),
    "appointment.completed": gettext_lazy("Completed"),
    "appointment.no_show": gettext_lazy("Marked as not attended"),
    "appointment.called": gettext_lazy("Called in by the doctor"),
}
CANCEL_LABELS = {
    "patient": gettext_lazy("Cancelled"),
    "hospital": gettext_lazy("Cancelled by the hospital"),
    "closure": gettext_lazy("Cancelled: the clinic was stopped"),
    "rescheduled": gettext_lazy("Moved to another time"),
}


def history_label(event) -> str:
    if event.action == "appointment.cancel":
        return CANCEL_LABELS.get((event.data or {}).get("why"), CANCEL_LABELS["patient"])
    return HISTORY_LABELS.get(event.action) or action_sentence(event.action, event.data)


def qr_svg(text: str) -> str:
    """An inline SVG QR code (never a Micro QR: phone and desk scanners do not read those)."""
    code = segno.make(text, error="m", micro=False)
    return code.svg_inline(scale=6, border=4, svgclass="qr-code", lineclass=None, omitsize=True)


@login_required
@require_GET
def appointment_list(request: HttpRequest) -> HttpResponse:
    upcoming, past = appointments_upcoming_and_past(account=request.user)
    return render(
        request, "appointments/appointment_list.html", {"upcoming": upcoming, "past": past}
    )


def closure_offers(appointment) -> list[dict]:
    """On the page of an appointment a stopped clinic cancelled (still ahead): the ranked
    alternatives of its notice, each a one-click offer."""
    if (
        appointment.status != "cancelled"
        or appointment.cancel_reason != "closure"
        or appointment.slot.start <= timezone.now()
        or offer_used(appointment)
    ):
        return []
    return closure_offers_for(appointment)


@account_appointment
@require_GET
def appointment_detail(request: HttpRequest, appointment) -> HttpResponse:
    history = list(audit_events_for(target=appointment)[:50])
    for event in history:
        event.label = history_label(event)
    return render(
        request,
        "appointments/appointment_detail.html",
        {
            "appointment": appointment,
            "slot": appointment.slot,
            # Only an in-person visit is checked in at a desk, so only it shows a QR code.
            "qr": mark_safe(qr_svg(appointment.code))  # noqa: S308 (our own SVG)
            if appointment.slot.mode == Mode.IN_PERSON and appointment.is_active
            else "",
            "history": history,
            "alternatives": closure_offers(appointment),
            "now": timezone.now(),
            "cancel_until": appointment.slot.start
            - dt.timedelta(hours=appointment.slot.site.cancellation_cutoff_hours),
        },
    )


@account_appointment
@require_GET
def appointment_calendar_file(request: HttpRequest, appointment) -> HttpResponse:
    response = HttpResponse(
        appointment_ics(appointment, attendee_email=request.user.email),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{appointment.code}.ics"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def calendar_links(request: HttpRequest) -> HttpResponse:
    tokens = CalendarToken.objects.filter(
        owner=request.user, purpose=CalendarToken.Purpose.PERSONAL
    )
    new_link = None
    status = 200
    if request.method == "POST" and request.POST.get("action") == "revoke":
        revoke = FeedLinkRevokeForm(request.POST)
        if revoke.is_valid():
            token = get_object_or_404(tokens, pk=revoke.cleaned_data["token"])
            calendar_token_revoke(token=token, by=request.user)
            messages.success(request, _("Feed link revoked: calendars using it stop updating."))
            return redirect("appointment_calendar_links")
        messages.error(request, revoke.errors["token"][0])
        status = 400
    elif request.method == "POST":
        _token, secret = calendar_token_issue(
            owner=request.user, purpose=CalendarToken.Purpose.PERSONAL, by=request.user
        )
        new_link = request.build_absolute_uri(reverse("calendar_feed", args=[secret]))
    return render(
        request,
        "appointments/calendar_links.html",
        {"live_tokens": [t for t in tokens if t.is_live], "new_link": new_link},
        status=status,
    )


@never_cache
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The personal feed: anyone holding the secret link reads it (calendar apps cannot sign
    in); a revoked or unknown link is a 404."""
    live = calendar_token_live(secret=token, purpose=CalendarToken.Purpose.PERSONAL)
    if live is None or not live.owner.is_active:
        raise Http404
    calendar_token_mark_used(token=live)
    body = personal_feed_ics(appointments_for_feed(account=live.owner))
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


@account_appointment
@require_GET
def appointment_short(request: HttpRequest, appointment) -> HttpResponse:
    """/a/<code>, the short link of text messages: the appointment page, for a signed-in
    account linked to the appointment (anyone else: sign in, then a 404)."""
    return redirect("appointment_detail", code=appointment.code)
