"""'Take this one': the one-click rebooking offered by a stopped clinic's notice."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from appointments.errors import BookingRefused, OfferRefused
from appointments.selectors.alternatives import offer_open
from appointments.services.alternatives import offer_take
from appointments.services.messages import when_slot


@login_required
@require_http_methods(["GET", "POST"])
def appointment_rebook(request: HttpRequest, token: str) -> HttpResponse:
    try:
        old, slot = offer_open(token=token, account=request.user)
    except OfferRefused as refused:
        return render(request, "appointments/rebook.html", {"refusal": refused.message}, status=410)
    error = None
    if request.method == "POST":
        try:
            appointment = offer_take(token=token, account=request.user)
        except (OfferRefused, BookingRefused) as refused:
            error = refused.message
        else:
            messages.success(
                request,
                _("Booked. Your appointment code is %(code)s; a confirmation is on its way.")
                % {"code": appointment.code},
            )
            return redirect(appointment.get_absolute_url())
    return render(
        request,
        "appointments/rebook.html",
        {"old": old, "slot": slot, "when": when_slot(slot), "error": error},
    )
