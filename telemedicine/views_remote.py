"""Remote consultation (远程会诊) pages: the clinic doctor's "consult a specialist" on a visit.
Anyone but the visit's own doctor with a live right to the record gets a 404."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from appointments.errors import BookingRefused
from appointments.models import Appointment, Mode
from records.access import record_access
from telemedicine.forms import RemoteConsultationForm
from telemedicine.selectors import remote_consultations_of_visit
from telemedicine.services import ConsultRefused
from telemedicine.services_remote import remote_consultation_book

VISIT_GOING_ON = (Appointment.Status.CHECKED_IN, Appointment.Status.IN_CONSULT)


def _own_visit_or_404(request: HttpRequest, code: str) -> Appointment:
    """The signed-in doctor's in-person visit going on, with a live right to the record."""
    visit = (
        Appointment.objects.select_related("patient", "slot__doctor", "slot__site", "encounter")
        .filter(code=code, slot__doctor__user_id=request.user.pk, slot__mode=Mode.IN_PERSON)
        .first()
    )
    if visit is None or not record_access(user=request.user, patient=visit.patient).allowed:
        raise Http404
    return visit


def _department_id(value: str | None) -> int | None:
    ok = value and value.isascii() and value.isdigit() and len(value) < 10
    return int(value) if ok else None


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def remote_consultation_new(request: HttpRequest, code: str) -> HttpResponse:
    visit = _own_visit_or_404(request, code)
    going_on = visit.status in VISIT_GOING_ON
    source = request.POST if request.method == "POST" else request.GET
    department_id = _department_id(source.get("department"))
    if request.method == "POST" and not going_on:
        messages.error(request, _("A remote consultation is booked while the visit is going on."))
        return redirect("doctor_visit", code=visit.code)
    if request.method == "POST":
        form = RemoteConsultationForm(request.POST, department_id=department_id)
        if form.is_valid():
            try:
                consultation = remote_consultation_book(
                    visit=visit,
                    slot=form.cleaned_data["slot"],
                    by=request.user,
                    question=form.cleaned_data["question"],
                    invite_patient=form.cleaned_data["invite_patient"],
                    idempotency_key=form.cleaned_data["idempotency_key"] or None,
                )
            except (BookingRefused, ConsultRefused) as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(
                    request,
                    _("The remote consultation with %(doctor)s is booked.")
                    % {"doctor": consultation.appointment.slot.doctor.display_name},
                )
                return redirect("doctor_visit", code=visit.code)
        status = 400
    else:
        form = RemoteConsultationForm(
            initial={"department": department_id, "idempotency_key": uuid.uuid4().hex},
            department_id=department_id,
        )
        status = 200
    context = {
        "visit": visit,
        "patient": visit.patient,
        "form": form,
        "going_on": going_on,
        "booked": remote_consultations_of_visit(visit=visit),
    }
    return render(request, "telemedicine/remote_new.html", context, status=status)
