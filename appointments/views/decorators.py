"""What the appointments pages share: the decorators that find the appointment of an account, the
hospitals of a desk and the hospital of a console page (anything else is a 404), and the
console's small helpers."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone

from appointments.selectors.appointments import appointment_for_account
from appointments.selectors.desk import desk_hospitals
from hospitals.models import Doctor, Hospital
from hospitals.selectors import managed_hospital_or_404


def account_appointment(view):
    """Sign-in required; the appointment's code must belong to one of the account's people,
    otherwise the page does not exist."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, code: str, **kwargs) -> HttpResponse:
        appointment = appointment_for_account(account=request.user, code=code)
        if appointment is None:
            raise Http404
        return view(request, appointment, **kwargs)

    return wrapper


def desk_page(view):
    """Front desk and hospital admin members (and platform admins) only; 404 for others."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, **kwargs) -> HttpResponse:
        hospitals = list(desk_hospitals(user=request.user))
        if not hospitals:
            raise Http404
        return view(request, hospitals, **kwargs)

    return wrapper


def console_page(view):
    """Sign-in required; the hospital in the URL must be one this account manages (else 404);
    times are read and shown in that hospital's time zone."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, hospital_slug: str, **kwargs) -> HttpResponse:
        hospital = managed_hospital_or_404(user=request.user, slug=hospital_slug)
        with timezone.override(hospital.zone):
            return view(request, hospital, **kwargs)

    return wrapper


def doctor_of_hospital_or_404(hospital: Hospital, doctor_id: int) -> Doctor:
    return get_object_or_404(
        Doctor.objects.select_related("department", "hospital"), pk=doctor_id, hospital=hospital
    )


def form_apply_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def hospital_today(hospital: Hospital) -> dt.date:
    return hospital.local_date(timezone.now())
