"""The consult room and its ICE servers. Anyone the room is not for gets a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from appointments.models import Appointment
from appointments.selectors import doctor_queue_today
from appointments.services import BookingRefused, queue_call_next
from records.access import RecordAccess, record_access
from records.models import CONSENT_SUMMARIES, ConsentKind, age_on
from records.selectors import encounter_drafts, patient_links_for_account
from records.views_clinical import WORKSPACE_TEMPLATE, workspace_context
from telemedicine.forms import CallNextForm
from telemedicine.ice import ice_servers_for
from telemedicine.selectors import (
    HOSTS,
    PATIENT,
    consultation_for_account_or_404,
    doctor_day,
    doctor_for_account,
    remote_consultations_of_visit,
    remote_visit_of,
    telemedicine_consent_given,
)
from telemedicine.services import ConsultRefused, visit_complete


def _room_strings() -> dict[str, str]:
    """What room.js says, translated here (the script holds no text of its own)."""
    return {
        "connecting": _("Connecting…"),
        "waiting": _("Waiting for the doctor to let you in."),
        "waiting_doctor": _("Admit the patient to start the call."),
        "connected": _("Connected"),
        "reconnecting": _("Connection lost. Reconnecting…"),
        "failed": _("The video could not connect. Continue by chat below."),
        "ended": _("This consult has ended."),
        "ok": _("ready"),
        "not_ok": _("not available"),
        "mute": _("Mute"),
        "unmute": _("Unmute"),
        "camera_off": _("Turn camera off"),
        "camera_on": _("Turn camera on"),
        "you": _("You"),
        "doctor": _("Doctor"),
        "patient": _("Patient"),
        "patient_here": _("The patient is in the waiting room."),
        "patient_away": _("The patient has not joined yet."),
        "patient_in_call": _("The patient is in the call."),
        "confirm_end": _("End the consult for both of you?"),
        "drafts_stay": _("Not signed, these stay drafts:"),
        "no_media": _("No camera or microphone: you can still talk by chat."),
    }


@never_cache
@require_GET
@login_required
def consult_room(request: HttpRequest, public_id: str) -> HttpResponse:
    consultation, role = consultation_for_account_or_404(public_id=public_id, account=request.user)
    appointment = consultation.appointment
    slot = appointment.slot
    patient = appointment.patient
    if role == PATIENT and not telemedicine_consent_given(consultation=consultation):
        return _consent_needed(request, consultation=consultation, patient=patient)
    workspace = None
    if role in HOSTS:
        access = record_access(user=request.user, patient=patient)
        if not access.allowed:
            raise Http404
        workspace = workspace_context(
            request=request,
            access=access,
            encounter=appointment.encounter,
            refresh_url=reverse("doctor_visit_workspace", args=[appointment.code]),
        )
    context = {
        "workspace": workspace,
        "consultation": consultation,
        "appointment": appointment,
        "slot": slot,
        "role": role,
        "is_doctor": role in HOSTS,
        "patient": patient,
        "patient_age": age_on(patient.birth_date, slot.start.date()),
        "i18n": _room_strings(),
    }
    if consultation.is_remote:
        context.update(
            is_doctor=role in HOSTS,
            i18n={**context["i18n"], **_mesh_strings()},
            visit=remote_visit_of(consultation=consultation),
        )
        return render(request, "telemedicine/room_remote.html", context)
    return render(request, "telemedicine/room.html", context)


def _mesh_strings() -> dict[str, str]:
    """What mesh.js says in a remote consultation's room."""
    return {
        "specialist": _("Specialist"),
        "gp": _("Clinic doctor"),
        "waiting": _("Waiting for the specialist to start the consultation."),
        "waiting_doctor": _("Start the consultation once the clinic doctor is here."),
        "connected_some": _("Connected with %(count)s of %(total)s"),
    }


def _consent_needed(request: HttpRequest, *, consultation, patient) -> HttpResponse:
    """The patient side without a live telemedicine consent: say why, and let an account that
    holds the person's consents give it here and come straight back."""
    link = patient_links_for_account(account=request.user, patient=patient).first()
    may_consent = link is not None and (link.is_manager or link.relationship == "self")
    return render(
        request,
        "telemedicine/consent_needed.html",
        {
            "consultation": consultation,
            "patient": patient,
            "may_consent": may_consent,
            "kind": ConsentKind.TELEMEDICINE,
            "label": ConsentKind.TELEMEDICINE.label,
            "summary": CONSENT_SUMMARIES[ConsentKind.TELEMEDICINE],
        },
    )


@never_cache
@require_GET
@login_required
def consult_ice_servers(request: HttpRequest, public_id: str) -> JsonResponse:
    consultation, _role = consultation_for_account_or_404(public_id=public_id, account=request.user)
    return JsonResponse(ice_servers_for(consultation=consultation, account=request.user))


# The counts of the doctor's day beside "booked" (every appointment of the day not cancelled):
# who is here (checked in or in the consult), who was seen, who did not come.
DAY_COUNT_OF_STATUS = {
    Appointment.Status.CHECKED_IN: "checked_in",
    Appointment.Status.IN_CONSULT: "checked_in",
    Appointment.Status.COMPLETED: "seen",
    Appointment.Status.NO_SHOW: "no_show",
}


@never_cache
@require_GET
@login_required
def doctor_day_view(request: HttpRequest) -> HttpResponse:
    """Today's sessions of the signed-in doctor, online and in person, with each patient's
    state; an online appointment's "start" opens its room. Not a doctor: 404."""
    doctor = doctor_for_account(account=request.user)
    if doctor is None:
        raise Http404
    day = timezone.now().astimezone(doctor.hospital.zone).date()
    slots = doctor_day(doctor=doctor, day=day)
    counts = dict.fromkeys(("booked", "checked_in", "seen", "no_show"), 0)
    for slot in slots:
        for appointment in slot.day_appointments:
            appointment.age = age_on(appointment.patient.birth_date, day)
            counts["booked"] += 1
            if appointment.status in DAY_COUNT_OF_STATUS:
                counts[DAY_COUNT_OF_STATUS[appointment.status]] += 1
    return render(
        request,
        "telemedicine/doctor_day.html",
        {
            "doctor": doctor,
            "day": day,
            "slots": slots,
            "counts": counts,
            "zone": doctor.hospital.timezone,
            # "Call next" belongs to in-person sessions only.
            "queue": doctor_queue_today(doctor=doctor)
            if any(slot.mode == "in_person" for slot in slots)
            else None,
        },
    )


def _visit_or_404(request: HttpRequest, code: str) -> tuple[Appointment, RecordAccess]:
    """The signed-in doctor's own appointment and their access to its patient's record; a
    404 for anyone else (front desk and hospital admins included) and for a doctor without a
    live care relationship."""
    appointment = (
        Appointment.objects.select_related(
            "patient", "slot", "slot__doctor", "slot__site", "encounter", "encounter__doctor"
        )
        .filter(code=code, slot__doctor__user_id=request.user.pk)
        .first()
    )
    if appointment is None:
        raise Http404
    access = record_access(user=request.user, patient=appointment.patient)
    if not access.allowed:
        raise Http404
    return appointment, access


@never_cache
@require_GET
@login_required
def doctor_visit(request: HttpRequest, code: str) -> HttpResponse:
    """An appointment seen by its doctor: the patient, the shared record and the editors of
    the visit's encounter, and "complete" for an in-person visit."""
    appointment, access = _visit_or_404(request, code)
    slot = appointment.slot
    workspace = workspace_context(
        request=request,
        access=access,
        encounter=appointment.encounter,
        refresh_url=reverse("doctor_visit_workspace", args=[appointment.code]),
    )
    context = {
        "workspace": workspace,
        "appointment": appointment,
        "patient": appointment.patient,
        "slot": slot,
        "patient_age": age_on(appointment.patient.birth_date, slot.start.date()),
        "may_complete": slot.mode == "in_person"
        and appointment.status in (Appointment.Status.CHECKED_IN, Appointment.Status.IN_CONSULT),
        "remote_consultations": remote_consultations_of_visit(visit=appointment),
    }
    return render(request, "telemedicine/visit.html", context)


@never_cache
@require_GET
@login_required
def doctor_visit_workspace(request: HttpRequest, code: str) -> HttpResponse:
    """The workspace alone, for htmx (the consult room reloads it once the consult is live)."""
    appointment, access = _visit_or_404(request, code)
    context = workspace_context(
        request=request,
        access=access,
        encounter=appointment.encounter,
        refresh_url=reverse("doctor_visit_workspace", args=[appointment.code]),
    )
    return render(request, WORKSPACE_TEMPLATE, {"ws": context})


@never_cache
@require_POST
@login_required
def doctor_visit_complete(request: HttpRequest, code: str) -> HttpResponse:
    appointment, _access = _visit_or_404(request, code)
    drafts = encounter_drafts(encounter=appointment.encounter)
    if (drafts["notes"] or drafts["prescriptions"]) and request.POST.get("confirm") != "yes":
        # Say what stays a draft and ask again: a form, so it works without JavaScript.
        return render(
            request,
            "telemedicine/visit_complete_confirm.html",
            {"appointment": appointment, "patient": appointment.patient, "drafts": drafts},
        )
    try:
        visit_complete(appointment=appointment, by=request.user)
    except ConsultRefused as refusal:
        messages.error(request, refusal.message)
        return redirect("doctor_visit", code=appointment.code)
    messages.success(
        request, _("The visit of %(name)s is completed.") % {"name": appointment.patient.name}
    )
    return redirect("doctor_day")


@require_POST
@login_required
def doctor_call_next(request: HttpRequest) -> HttpResponse:
    """ "Call next" of an in-person session: the next checked-in patient is called in and the
    waiting-room display shows their number (appointments/services/queue.py)."""
    doctor = doctor_for_account(account=request.user)
    if doctor is None:
        raise Http404
    form = CallNextForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["seen_last"][0])
        return redirect("doctor_day")
    try:
        called = queue_call_next(
            doctor=doctor, by=request.user, seen_last=form.cleaned_data["seen_last"]
        )
    except BookingRefused as refused:
        messages.warning(request, refused.message)
        return redirect("doctor_day")
    if called is None:
        messages.info(request, _("Nobody is waiting: no checked-in patient is left to call."))
    else:
        messages.success(
            request,
            _("Called %(number)s: %(name)s.")
            % {"number": called.queue_label, "name": called.patient.name},
        )
    return redirect("doctor_day")
