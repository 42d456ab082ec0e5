"""The hospital admin console's schedule pages: rota, publish, closures, day view, feeds.

Every page is for the hospital's admins and platform admins only; anything of another hospital
is a 404 (`managed_hospital_or_404`), for doctors, front desk and patients too."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from functools import wraps

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from appointments.forms.console import ClosureForm, FeedLinkRevokeForm, ScheduleRuleForm, parse_day
from appointments.ics import doctor_sessions_calendar
from appointments.models import Appointment, CalendarToken, Closure, ScheduleRule, Slot, Weekday
from appointments.selectors.calendar import calendar_token_live
from appointments.selectors.closures import (
    closure_affected_appointments_count,
    closure_covered_slots,
    closures_for_hospital,
)
from appointments.selectors.rota import rota_by_doctor, slots_orphaned, slots_plan
from appointments.selectors.sessions import day_sessions
from appointments.services.calendar import (
    calendar_token_issue,
    calendar_token_mark_used,
    calendar_token_revoke,
)
from appointments.services.closures import closure_create
from appointments.services.rota import (
    schedule_rule_create,
    schedule_rule_delete,
    schedule_rule_update,
    slots_generate,
)
from audit.services import audit_record
from hospitals.models import Doctor, Hospital
from hospitals.selectors import hospitals_managed_by, managed_hospital_or_404

PUBLISH_DAYS = 14


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


def _doctor_or_404(hospital: Hospital, doctor_id: int) -> Doctor:
    return get_object_or_404(
        Doctor.objects.select_related("department", "hospital"), pk=doctor_id, hospital=hospital
    )


def _apply_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _local_today(hospital: Hospital) -> dt.date:
    return timezone.now().astimezone(hospital.zone).date()


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
    doctor = _doctor_or_404(hospital, doctor_id)
    if request.method == "POST":
        form = ScheduleRuleForm(request.POST, doctor=doctor)
        if form.is_valid():
            try:
                schedule_rule_create(doctor=doctor, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Session added. Publish the rota to turn it into slots."),
                )
                return redirect("console_rota", hospital_slug=hospital.slug, doctor_id=doctor.pk)
    else:
        form = ScheduleRuleForm(
            doctor=doctor,
            initial={"valid_from": _local_today(hospital), "weekday": request.GET.get("weekday")},
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
            "today": _local_today(hospital),
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
    doctor = _doctor_or_404(hospital, doctor_id)
    rule = get_object_or_404(ScheduleRule, pk=rule_id, doctor=doctor)
    if request.method == "POST":
        form = ScheduleRuleForm(request.POST, doctor=doctor)
        if form.is_valid():
            try:
                schedule_rule_update(rule=rule, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                _apply_errors(form, error)
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
    doctor = _doctor_or_404(hospital, doctor_id)
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
    start = _local_today(hospital)
    end = start + dt.timedelta(days=PUBLISH_DAYS - 1)
    if request.method == "POST":
        created = slots_generate(start=start, end=end, doctors=doctors.values(), by=request.user)
        orphaned = slots_orphaned(hospital=hospital).count()
        messages.success(
            request,
            _("Published: %(count)d new slots from %(start)s to %(end)s.")
            % {"count": created, "start": date_format(start), "end": date_format(end)},
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
                    _apply_errors(form, error)
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


# --- Day view and CSV --------------------------------------------------------------------


def _day_or_404(value: str) -> dt.date:
    try:
        return parse_day(value)
    except ValidationError as exc:
        raise Http404 from exc


@console_page
@require_GET
def today(request: HttpRequest, hospital: Hospital) -> HttpResponse:
    return redirect(
        "console_day", hospital_slug=hospital.slug, day=_local_today(hospital).isoformat()
    )


@console_page
@require_GET
def day_view(request: HttpRequest, hospital: Hospital, day: str) -> HttpResponse:
    date = _day_or_404(day)
    sessions = day_sessions(hospital=hospital, day=date)
    return render(
        request,
        "appointments/console/day.html",
        {
            "hospital": hospital,
            "section": "day",
            "day": date,
            "previous": (date - dt.timedelta(days=1)).isoformat(),
            "next": (date + dt.timedelta(days=1)).isoformat(),
            "sessions": sessions,
            "totals": {
                "booked": sum(s.booked + s.referral_booked for s in sessions),
                "capacity": sum(s.capacity + s.referral_capacity for s in sessions),
            },
        },
    )


def _csv_cell(value: object) -> str:
    """Keep a spreadsheet from running a cell as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + text
    return text


def day_session_rows(*, hospital: Hospital, day: dt.date) -> Iterator[list[str]]:
    yield [
        _("doctor"),
        _("department"),
        _("site"),
        _("mode"),
        _("starts"),
        _("ends"),
        _("public places taken"),
        _("public places"),
        _("referral places taken"),
        _("referral places"),
        _("closed"),
    ]
    for session in day_sessions(hospital=hospital, day=day):
        yield [
            session.doctor.display_name,
            session.doctor.department.display_name,
            session.site.display_name,
            session.slots[0].get_mode_display(),
            timezone.localtime(session.start).strftime("%H:%M"),
            timezone.localtime(session.end).strftime("%H:%M"),
            str(session.booked),
            str(session.capacity),
            str(session.referral_booked),
            str(session.referral_capacity),
            _("yes") if session.closed else "",
        ]


def day_appointment_rows(*, hospital: Hospital, day: dt.date) -> Iterator[list[str]]:
    """The day's appointments, one row each (header row first), patient IDs masked as records
    stores them (`330203********1234`); nothing when the day has none."""
    zone = hospital.zone
    begin = dt.datetime.combine(day, dt.time.min).replace(tzinfo=zone)
    finish = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min).replace(tzinfo=zone)
    appointments = (
        Appointment.objects.filter(slot__start__gte=begin, slot__start__lt=finish)
        .filter(Q(slot__doctor__hospital=hospital) | Q(slot__site=hospital))
        .select_related("slot__doctor", "patient")
        .order_by("slot__start", "slot__doctor__name", "code")
    )
    header_done = False
    for appointment in appointments:
        if not header_done:
            yield [
                _("appointment code"),
                _("time"),
                _("doctor"),
                _("patient"),
                _("ID number"),
                _("status"),
            ]
            header_done = True
        yield [
            appointment.code,
            appointment.slot.start.astimezone(zone).strftime("%H:%M"),
            appointment.slot.doctor.display_name,
            appointment.patient.name,
            appointment.patient.id_number_masked,
            appointment.get_status_display(),
        ]


@console_page
@require_GET
@reauthentication_required(allow_get=False)
def day_csv(request: HttpRequest, hospital: Hospital, day: str) -> HttpResponse:
    """A bulk export of patients' names: only with a password typed in the last five minutes
    (allauth's reauthentication), and written to the audit trail."""
    date = _day_or_404(day)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{hospital.slug}-{date}.csv"'
    response.write("\ufeff")  # Excel reads UTF-8 Chinese only with a byte-order mark
    writer = csv.writer(response)
    for row in day_session_rows(hospital=hospital, day=date):
        writer.writerow([_csv_cell(cell) for cell in row])
    appointment_rows = list(day_appointment_rows(hospital=hospital, day=date))
    if appointment_rows:
        writer.writerow([])
        for row in appointment_rows:
            writer.writerow([_csv_cell(cell) for cell in row])
    audit_record(
        actor=request.user,
        action="export.day_csv",
        target=hospital,
        data={"day": date.isoformat(), "appointments": max(len(appointment_rows) - 1, 0)},
        request=request,
    )
    return response


# --- Calendar feed -----------------------------------------------------------------------


@console_page
@require_http_methods(["GET", "POST"])
def calendar_links(request: HttpRequest, hospital: Hospital, doctor_id: int) -> HttpResponse:
    doctor = _doctor_or_404(hospital, doctor_id)
    tokens = CalendarToken.objects.filter(
        doctor=doctor, purpose=CalendarToken.Purpose.DOCTOR_SESSIONS
    ).select_related("owner")
    new_link = None
    status = 200
    if request.method == "POST" and request.POST.get("action") == "revoke":
        revoke = FeedLinkRevokeForm(request.POST)
        if revoke.is_valid():
            token = get_object_or_404(tokens, pk=revoke.cleaned_data["token"])
            calendar_token_revoke(token=token, by=request.user)
            messages.success(request, _("Feed link revoked: calendars using it stop updating."))
            return redirect(
                "console_calendar_links", hospital_slug=hospital.slug, doctor_id=doctor.pk
            )
        messages.error(request, revoke.errors["token"][0])
        status = 400
    elif request.method == "POST":
        _token, secret = calendar_token_issue(
            owner=request.user,
            purpose=CalendarToken.Purpose.DOCTOR_SESSIONS,
            doctor=doctor,
            by=request.user,
        )
        new_link = request.build_absolute_uri(
            reverse("doctor_sessions_ics", kwargs={"doctor_id": doctor.pk}) + f"?token={secret}"
        )
    return render(
        request,
        "appointments/console/calendar_links.html",
        {
            "hospital": hospital,
            "section": "rota",
            "doctor": doctor,
            "tokens": tokens,
            "new_link": new_link,
        },
        status=status,
    )


@require_GET
def doctor_sessions_ics(request: HttpRequest, doctor_id: int) -> HttpResponse:
    """The doctor's sessions for a calendar app: the secret link is the only credential; a
    revoked, unknown or no longer authorised link is a 404."""
    doctor = get_object_or_404(Doctor.objects.select_related("hospital"), pk=doctor_id)
    token = calendar_token_live(
        secret=request.GET.get("token", ""),
        purpose=CalendarToken.Purpose.DOCTOR_SESSIONS,
        doctor=doctor,
    )
    if token is None:
        raise Http404
    owner = token.owner
    still_allowed = owner.is_active and (
        owner.pk == doctor.user_id
        or hospitals_managed_by(user=owner).filter(pk=doctor.hospital_id).exists()
    )
    if not still_allowed:
        raise Http404
    calendar_token_mark_used(token=token)
    response = HttpResponse(doctor_sessions_calendar(doctor=doctor), content_type="text/calendar")
    response["Content-Disposition"] = f'inline; filename="doctor-{doctor.pk}-sessions.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
