"""The hospital admin console: departments and doctors of the hospitals an account manages.

Every view resolves the hospital through `managed_hospital_or_404`, and every object through
that hospital, so another hospital's console or object is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from audit.labels import CHANGED_FIELD_NAMES, action_sentence, actor_name
from hospitals import services
from hospitals.forms import DepartmentForm, DoctorAddForm, DoctorForm, DoctorInviteForm
from hospitals.models import Department, Doctor, Hospital
from hospitals.selectors import (
    departments_for_console,
    doctor_history,
    doctors_for_console,
    hospitals_managed_by,
    managed_hospital_or_404,
)


def console_view(view: Callable) -> Callable:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, hospital_slug: str, *args, **kwargs) -> HttpResponse:
        hospital = managed_hospital_or_404(user=request.user, slug=hospital_slug)
        return view(request, hospital, *args, **kwargs)

    return wrapper


def _save(form, call: Callable):
    """Run a service; its refusal becomes the form's error instead of a half-done change."""
    try:
        return call()
    except ValidationError as exc:
        form.add_error(None, exc)
        return None


@login_required
def manage_index(request: HttpRequest) -> HttpResponse:
    hospitals = list(hospitals_managed_by(user=request.user))  # the lists' order: set, then pinyin
    if not hospitals:
        raise Http404
    return render(request, "hospitals/console/index.html", {"hospitals": hospitals})


@console_view
def hospital_dashboard(request: HttpRequest, hospital: Hospital) -> HttpResponse:
    doctors = hospital.doctors.filter(is_active=True)
    context = {
        "hospital": hospital,
        "department_count": hospital.departments.filter(is_active=True).count(),
        "doctor_count": doctors.count(),
        "uninvited_count": doctors.filter(user__isnull=True).count(),
    }
    return render(request, "hospitals/console/dashboard.html", context)


# Departments


@console_view
def department_list(request: HttpRequest, hospital: Hospital) -> HttpResponse:
    departments = departments_for_console(hospital=hospital)
    return render(
        request,
        "hospitals/console/department_list.html",
        {"hospital": hospital, "departments": departments},
    )


@console_view
@require_http_methods(["GET", "POST"])
def department_add(request: HttpRequest, hospital: Hospital) -> HttpResponse:
    form = DepartmentForm(request.POST or None, hospital=hospital)
    if request.method == "POST" and form.is_valid():
        department = _save(
            form,
            lambda: services.department_create(
                hospital=hospital, by=request.user, **form.cleaned_data
            ),
        )
        if department is not None:
            messages.success(request, _("Department %(name)s added.") % {"name": department})
            return redirect("console_departments", hospital.slug)
    return render(
        request,
        "hospitals/console/form.html",
        {"hospital": hospital, "form": form, "title": _("Add a department")},
    )


@console_view
@require_http_methods(["GET", "POST"])
def department_edit(request: HttpRequest, hospital: Hospital, department_id: int) -> HttpResponse:
    department = get_object_or_404(Department, pk=department_id, hospital=hospital)
    form = DepartmentForm(request.POST or None, instance=department, hospital=hospital)
    if request.method == "POST" and form.is_valid():
        saved = _save(
            form,
            lambda: services.department_update(
                department=Department.objects.get(pk=department.pk),
                by=request.user,
                **form.cleaned_data,
            ),
        )
        if saved is not None:
            messages.success(request, _("Department %(name)s saved.") % {"name": saved})
            return redirect("console_departments", hospital.slug)
    return render(
        request,
        "hospitals/console/form.html",
        {
            "hospital": hospital,
            "form": form,
            "title": _("Edit %(name)s") % {"name": department},
        },
    )


@console_view
@require_http_methods(["GET", "POST"])
def department_deactivate(
    request: HttpRequest, hospital: Hospital, department_id: int
) -> HttpResponse:
    department = get_object_or_404(Department, pk=department_id, hospital=hospital)
    error = None
    if request.method == "POST":
        try:
            services.department_deactivate(department=department, by=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Department %(name)s deactivated.") % {"name": department})
            return redirect("console_departments", hospital.slug)
    return render(
        request,
        "hospitals/console/confirm.html",
        {
            "hospital": hospital,
            "title": _("Deactivate %(name)s?") % {"name": department},
            "explanation": _(
                "The department disappears from the public directory. Its history is kept."
            ),
            "error": error,
            "confirm_label": _("Deactivate"),
            "cancel_url_name": "console_departments",
        },
        status=400 if error else 200,
    )


# Doctors


@console_view
def doctor_list(request: HttpRequest, hospital: Hospital) -> HttpResponse:
    doctors = doctors_for_console(hospital=hospital)
    return render(
        request,
        "hospitals/console/doctor_list.html",
        {"hospital": hospital, "doctors": doctors},
    )


@console_view
@require_http_methods(["GET", "POST"])
def doctor_add(request: HttpRequest, hospital: Hospital) -> HttpResponse:
    form = DoctorAddForm(request.POST or None, hospital=hospital)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        email, phone = fields.pop("email"), fields.pop("phone")

        def create() -> Doctor:
            if email:
                return services.doctor_invite(
                    hospital=hospital,
                    email=email,
                    invited_by=request.user,
                    base_url=request.build_absolute_uri("/").rstrip("/"),
                    phone=phone,
                    doctor=services.doctor_create(hospital=hospital, by=request.user, **fields),
                )
            return services.doctor_create(hospital=hospital, by=request.user, **fields)

        doctor = _save(form, lambda: _atomic(create))
        if doctor is not None:
            if email:
                messages.success(
                    request,
                    _("%(name)s added; an invitation went to %(email)s.")
                    % {"name": doctor, "email": email},
                )
            else:
                messages.success(request, _("%(name)s added.") % {"name": doctor})
            return redirect("console_doctor", hospital.slug, doctor.pk)
    return render(
        request,
        "hospitals/console/form.html",
        {"hospital": hospital, "form": form, "title": _("Add a doctor")},
    )


def _atomic(call: Callable):
    with transaction.atomic():
        return call()


@console_view
def doctor_detail(request: HttpRequest, hospital: Hospital, doctor_id: int) -> HttpResponse:
    doctor = get_object_or_404(
        Doctor.objects.select_related("department", "user"), pk=doctor_id, hospital=hospital
    )
    history = doctor_history(doctor=doctor)
    for event in history:
        event.label = action_sentence(event.action, event.data)
        event.actor_name = actor_name(event.actor_label)
        event.changed_fields = [
            _field_label(name) for name in sorted((event.data or {}).get("changes", {}))
        ]
    return render(
        request,
        "hospitals/console/doctor_detail.html",
        {
            "hospital": hospital,
            "doctor": doctor,
            "history": history,
            "room_label": Doctor._meta.get_field("room").verbose_name,
            "invite_form": DoctorInviteForm() if doctor.user_id is None else None,
        },
    )


def _field_label(name: str) -> str:
    try:
        return str(Doctor._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return str(CHANGED_FIELD_NAMES.get(name, name))


@console_view
@require_http_methods(["GET", "POST"])
def doctor_edit(request: HttpRequest, hospital: Hospital, doctor_id: int) -> HttpResponse:
    doctor = get_object_or_404(Doctor, pk=doctor_id, hospital=hospital)
    form = DoctorForm(request.POST or None, instance=doctor, hospital=hospital)
    if request.method == "POST" and form.is_valid():
        saved = _save(
            form,
            lambda: services.doctor_update(
                doctor=Doctor.objects.get(pk=doctor.pk),
                by=request.user,
                **form.cleaned_data,
            ),
        )
        if saved is not None:
            messages.success(request, _("%(name)s saved.") % {"name": saved})
            return redirect("console_doctor", hospital.slug, doctor.pk)
    return render(
        request,
        "hospitals/console/form.html",
        {"hospital": hospital, "form": form, "title": _("Edit %(name)s") % {"name": doctor}},
    )


@console_view
@require_http_methods(["GET", "POST"])
def doctor_deactivate(request: HttpRequest, hospital: Hospital, doctor_id: int) -> HttpResponse:
    doctor = get_object_or_404(Doctor, pk=doctor_id, hospital=hospital)
    if request.method == "POST":
        services.doctor_deactivate(doctor=doctor, by=request.user)
        messages.success(request, _("%(name)s deactivated.") % {"name": doctor})
        return redirect("console_doctors", hospital.slug)
    return render(
        request,
        "hospitals/console/confirm.html",
        {
            "hospital": hospital,
            "title": _("Deactivate %(name)s?") % {"name": doctor},
            "explanation": _(
                "The doctor disappears from the public directory. Booked sessions stay until "
                "you stop them with a closure."
            ),
            "confirm_label": _("Deactivate"),
            "cancel_url_name": "console_doctors",
        },
    )


@console_view
@require_http_methods(["POST"])
def doctor_invite(request: HttpRequest, hospital: Hospital, doctor_id: int) -> HttpResponse:
    doctor = get_object_or_404(Doctor, pk=doctor_id, hospital=hospital)
    form = DoctorInviteForm(request.POST)
    if form.is_valid():
        email, phone = form.cleaned_data["email"], form.cleaned_data["phone"]
        invited = _save(
            form,
            lambda: services.doctor_invite(
                hospital=hospital,
                email=email,
                invited_by=request.user,
                base_url=request.build_absolute_uri("/").rstrip("/"),
                doctor=doctor,
                phone=phone,
            ),
        )
        if invited is not None:
            messages.success(request, _("An invitation went to %(email)s.") % {"email": email})
            return redirect("console_doctor", hospital.slug, doctor.pk)
    return render(
        request,
        "hospitals/console/form.html",
        {
            "hospital": hospital,
            "form": form,
            "title": _("Invite %(name)s") % {"name": doctor},
        },
        status=400,
    )
