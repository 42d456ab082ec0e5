"""The console's closures: the list, and stopping a clinic (which cancels what it covers).

Every page is for the hospital's admins and platform admins only; anything of another hospital
is a 404 (`managed_hospital_or_404`)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from appointments.forms.console import ClosureForm
from appointments.models import Closure, Slot
from appointments.selectors.closures import (
    closure_affected_appointments_count,
    closure_covered_slots,
    closures_for_hospital,
)
from appointments.services.closures import closure_create
from appointments.views.decorators import console_page, form_apply_errors
from hospitals.models import Hospital

# --- Closures ----------------------------------------------------------------------------


@console_page
@require_GET
def closure_list(request: HttpRequest, hospital: Hospital) -> HttpResponse:
    closures = closures_for_hospital(hospital=hospital).annotate(slot_count=Count("slots"))
    return render(
        request,
        "appointments/console/closures.html",
        {"hospital": hospital, "section": "closures", "closures": closures[:200]},
    )


@console_page
@require_http_methods(["GET", "POST"])
def closure_new(request: HttpRequest, hospital: Hospital) -> HttpResponse:
    """Two steps: the form, then a confirmation saying how many booked places it cancels."""
    if request.method == "POST":
        form = ClosureForm(request.POST, hospital=hospital)
        if form.is_valid():
            arguments = form.service_arguments()
            if request.POST.get("confirm") == "yes":
                try:
                    closure = closure_create(
                        **arguments, reason=form.cleaned_data["reason"], by=request.user
                    )
                except ValidationError as error:
                    form_apply_errors(form, error)
                else:
                    messages.success(
                        request,
                        _("Closed %(count)d slots.") % {"count": closure.slots.count()},
                    )
                    return redirect("console_closures", hospital_slug=hospital.slug)
            else:
                return render(
                    request,
                    "appointments/console/closure_confirm.html",
                    {
                        "hospital": hospital,
                        "section": "closures",
                        "form": form,
                        "arguments": arguments,
                        "target": arguments["doctor"]
                        or arguments["department"]
                        or arguments["hospital"],
                        "slots": closure_covered_slots(**arguments).count(),
                        "affected": closure_affected_appointments_count(**arguments),
                    },
                )
    else:
        form = ClosureForm(hospital=hospital, initial=_closure_initial(request, hospital))
    return render(
        request,
        "appointments/console/closure_new.html",
        {"hospital": hospital, "section": "closures", "form": form},
    )


def _closure_initial(request: HttpRequest, hospital: Hospital) -> dict:
    """The console's "close this slot" links prefill the form from the query string."""
    initial: dict = {"scope": Closure.Scope.DOCTOR}
    slot_id = request.GET.get("slot")
    if slot_id and slot_id.isdigit():
        slot = Slot.objects.filter(pk=slot_id, doctor__hospital=hospital).first()
        if slot is not None:
            initial.update(
                doctor=slot.doctor_id,
                starts_at=timezone.localtime(slot.start).replace(tzinfo=None),
                ends_at=timezone.localtime(slot.end).replace(tzinfo=None),
            )
    return initial
