"""The console's day: the day view and its CSV export, and a doctor's sessions feed and its links.

Every console page is for the hospital's admins and platform admins only; anything of another
hospital is a 404 (`managed_hospital_or_404`). The sessions feed is read with its secret."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from appointments.forms.console import FeedLinkRevokeForm, parse_day
from appointments.ics import doctor_sessions_calendar
from appointments.models import Appointment, CalendarToken
from appointments.selectors.calendar import calendar_token_live
from appointments.selectors.sessions import day_sessions
from appointments.services.calendar import (
    calendar_token_issue,
    calendar_token_mark_used,
    calendar_token_revoke,
)
from appointments.views.decorators import console_page, doctor_of_hospital_or_404, hospital_today
from audit.services import audit_record
from hospitals.models import Doctor, Hospital
from hospitals.selectors import hospitals_managed_by

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
        "console_day", hospital_slug=hospital.slug, day=hospital_today(hospital).isoformat()
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
    begin, finish = hospital.local_day_bounds(day)
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
    )
    return response


# --- Calendar feed -----------------------------------------------------------------------


@console_page
@require_http_methods(["GET", "POST"])
def calendar_links(request: HttpRequest, hospital: Hospital, doctor_id: int) -> HttpResponse:
    doctor = doctor_of_hospital_or_404(hospital, doctor_id)
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
