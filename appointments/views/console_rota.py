"""The console's rota pages: each doctor's weekly rota, and the preview and publishing of its slots.

Every page is for the hospital's admins and platform admins only; anything of another hospital
is a 404 (`managed_hospital_or_404`), for doctors, front desk and patients too."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from appointments.forms.console import ScheduleRuleForm
from appointments.models import ScheduleRule, Slot, Weekday
from appointments.selectors.rota import rota_by_doctor, slots_orphaned, slots_plan
from appointments.services.rota import (
    schedule_rule_create,
    schedule_rule_delete,
    schedule_rule_update,
    slots_generate,
)
from appointments.views.decorators import (
    console_page,
    doctor_of_hospital_or_404,
    form_apply_errors,
    hospital_today,
)
from hospitals.models import Doctor, Hospital
from hospitals.when import format_day

PUBLISH_DAYS = 14


# --- Rota --------------------------------------------------------------------------------


@console_page
@require_GET
def rota_list(request: HttpRequest, hospital: Hospital) -> HttpResponse:
    rows = rota_by_doctor(hospital=hospital)
    orphaned = dict(
        slots_orphaned(hospital=hospital)
        .order_by()
        .values_list("doctor_id")
        .annotate(count=Count("id"))
    )
    return render(
        request,
        "appointments/console/rota_list.html",
        {
            "hospital": hospital,
            "section": "rota",
            "rows": [
                {"doctor": doctor, "rules": rules, "orphaned": orphaned.get(doctor.pk, 0)}
                for doctor, rules in rows
            ],
        },
    )


def _week_columns(rules: list[ScheduleRule]) -> list[dict]:
    by_day: dict[int, list[ScheduleRule]] = defaultdict(list)
    for rule in sorted(rules, key=lambda r: (r.start_time, r.valid_from)):
        by_day[rule.weekday].append(rule)
    return [
        {"weekday": value, "label": label, "rules": by_day[value]}
        for value, label in Weekday.choices
    ]


@console_page
@require_http_methods(["GET", "POST"])
def rota(request: HttpRequest, hospital: Hospital, doctor_id: int) -> HttpResponse:
    doctor = doctor_of_hospital_or_404(hospital, doctor_id)
    if request.method == "POST":
        form = ScheduleRuleForm(request.POST, doctor=doctor)
        if form.is_valid():
            try:
                schedule_rule_create(doctor=doctor, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form_apply_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Session added. Publish the rota to turn it into slots."),
                )
                return redirect("console_rota", hospital_slug=hospital.slug, doctor_id=doctor.pk)
    else:
        form = ScheduleRuleForm(
            doctor=doctor,
            initial={"valid_from": hospital_today(hospital), "weekday": request.GET.get("weekday")},
        )
    rules = list(
        ScheduleRule.objects.filter(doctor=doctor).select_related("site").order_by("start_time")
    )
    return render(
        request,
        "appointments/console/rota.html",
        {
            "hospital": hospital,
            "section": "rota",
            "today": hospital_today(hospital),
            "doctor": doctor,
            "columns": _week_columns(rules),
            "form": form,
            "orphaned": list(slots_orphaned(doctors=[doctor])),
        },
    )


@console_page
@require_http_methods(["GET", "POST"])
def rota_edit(
    request: HttpRequest, hospital: Hospital, doctor_id: int, rule_id: int
) -> HttpResponse:
    doctor = doctor_of_hospital_or_404(hospital, doctor_id)
    rule = get_object_or_404(ScheduleRule, pk=rule_id, doctor=doctor)
    if request.method == "POST":
        form = ScheduleRuleForm(request.POST, doctor=doctor)
        if form.is_valid():
            try:
                schedule_rule_update(rule=rule, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form_apply_errors(form, error)
            else:
                messages.success(request, _("Session saved. Publish the rota to update the slots."))
                return redirect("console_rota", hospital_slug=hospital.slug, doctor_id=doctor.pk)
    else:
        form = ScheduleRuleForm(doctor=doctor, initial=ScheduleRuleForm.initial_from(rule))
    return render(
        request,
        "appointments/console/rota_edit.html",
        {"hospital": hospital, "section": "rota", "doctor": doctor, "rule": rule, "form": form},
    )


@console_page
@require_http_methods(["GET", "POST"])
def rota_delete(
    request: HttpRequest, hospital: Hospital, doctor_id: int, rule_id: int
) -> HttpResponse:
    doctor = doctor_of_hospital_or_404(hospital, doctor_id)
    rule = get_object_or_404(ScheduleRule.objects.select_related("site"), pk=rule_id, doctor=doctor)
    if request.method == "POST":
        schedule_rule_delete(rule=rule, by=request.user)
        messages.success(
            request,
            _(
                "Session removed. Publish the rota: its free slots go, booked ones stay until "
                "you close them."
            ),
        )
        return redirect("console_rota", hospital_slug=hospital.slug, doctor_id=doctor.pk)
    booked = Slot.objects.filter(rule=rule, start__gt=timezone.now()).filter(
        Q(booked__gt=0) | Q(referral_booked__gt=0)
    )
    return render(
        request,
        "appointments/console/rota_delete.html",
        {
            "hospital": hospital,
            "section": "rota",
            "doctor": doctor,
            "rule": rule,
            "booked_slots": booked.count(),
        },
    )


# --- Preview and publish -----------------------------------------------------------------


def _plan_rows(hospital: Hospital, plan, doctors: dict[int, Doctor]) -> list[dict]:
    """The slots a publish would create, one row per doctor, day, site and mode."""
    sites = {site.pk: site for site in Hospital.objects.filter(pk__in={p.site_id for p in plan})}
    groups: dict[tuple, dict] = {}
    for planned in plan:
        local_start = planned.start.astimezone(sites[planned.site_id].zone)
        key = (planned.doctor_id, local_start.date(), planned.site_id, planned.mode)
        row = groups.get(key)
        if row is None:
            row = groups[key] = {
                "doctor": doctors[planned.doctor_id],
                "day": local_start.date(),
                "site": sites[planned.site_id],
                "mode": planned.mode,
                "start": planned.start,
                "end": planned.end,
                "slots": 0,
                "places": 0,
            }
        row["start"] = min(row["start"], planned.start)
        row["end"] = max(row["end"], planned.end)
        row["slots"] += 1
        row["places"] += planned.capacity + planned.referral_capacity
    return sorted(groups.values(), key=lambda r: (r["day"], r["start"], r["doctor"].name))


@console_page
@require_http_methods(["GET", "POST"])
def schedule_preview(request: HttpRequest, hospital: Hospital) -> HttpResponse:
    doctors = {
        d.pk: d for d in Doctor.objects.filter(hospital=hospital).select_related("department")
    }
    start = hospital_today(hospital)
    end = start + dt.timedelta(days=PUBLISH_DAYS - 1)
    if request.method == "POST":
        created = slots_generate(start=start, end=end, doctors=doctors.values(), by=request.user)
        orphaned = slots_orphaned(hospital=hospital).count()
        messages.success(
            request,
            _("Published: %(count)d new slots from %(start)s to %(end)s.")
            % {"count": created, "start": format_day(start), "end": format_day(end)},
        )
        if orphaned:
            messages.warning(
                request,
                _(
                    "%(count)d booked slots are no longer on the rota. Close them to tell the "
                    "patients."
                )
                % {"count": orphaned},
            )
        return redirect("console_schedule_preview", hospital_slug=hospital.slug)
    plan = slots_plan(start=start, end=end, doctors=doctors.values())
    newly_orphaned = list(
        Slot.objects.filter(pk__in=plan.to_orphan).select_related("doctor", "site")
    )
    return render(
        request,
        "appointments/console/preview.html",
        {
            "hospital": hospital,
            "section": "publish",
            "start": start,
            "end": end,
            "rows": _plan_rows(hospital, plan.to_create, doctors),
            "created": len(plan.to_create),
            "removed": len(plan.to_delete),
            "newly_orphaned": newly_orphaned,
            "orphaned": list(slots_orphaned(hospital=hospital)),
        },
    )
