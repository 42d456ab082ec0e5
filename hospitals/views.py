"""The public directory: hospitals, their departments and their doctors. A doctor's own page
shows bookable periods, so it lives in appointments (appointments/views/public.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from hospitals.forms import HospitalFilterForm
from hospitals.models import Department, Hospital
from hospitals.selectors import (
    departments_public,
    doctors_public,
    hospital_districts,
    hospitals_public,
    next_free_periods,
)


@require_GET
def hospital_list(request: HttpRequest) -> HttpResponse:
    form = HospitalFilterForm(request.GET or None, districts=hospital_districts())
    district = kind = ""
    if form.is_valid():
        district, kind = form.cleaned_data["district"], form.cleaned_data["kind"]
    hospitals = list(hospitals_public(district=district, kind=kind))
    return render(
        request,
        "hospitals/hospital_list.html",
        {"form": form, "hospitals": hospitals, "filtered": bool(district or kind)},
    )


@require_GET
def hospital_detail(request: HttpRequest, slug: str) -> HttpResponse:
    hospital = get_object_or_404(Hospital, slug=slug, is_active=True)
    departments = list(departments_public(hospital=hospital))
    return render(
        request,
        "hospitals/hospital_detail.html",
        {"hospital": hospital, "departments": departments},
    )


@require_GET
def department_detail(request: HttpRequest, slug: str, department_slug: str) -> HttpResponse:
    department = get_object_or_404(
        Department.objects.select_related("hospital"),
        hospital__slug=slug,
        hospital__is_active=True,
        slug=department_slug,
        is_active=True,
    )
    doctors = list(doctors_public(department=department))
    periods = next_free_periods(doctors=doctors)
    for doctor in doctors:
        doctor.next_free_period = periods.get(doctor.pk)
    return render(
        request,
        "hospitals/department_detail.html",
        {"hospital": department.hospital, "department": department, "doctors": doctors},
    )
