"""The consult room and its ICE servers. Anyone the room is not for gets a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from appointments.selectors_desk import doctor_queue_today
from appointments.services import BookingRefused, queue_call_next
from records.models import age_on
from telemedicine.ice import ice_servers_for
from telemedicine.selectors import (
    DOCTOR,
    consultation_for_account_or_404,
    doctor_day,
    doctor_for_account,
)


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
    context = {
        "consultation": consultation,
        "appointment": appointment,
        "slot": slot,
        "role": role,
        "is_doctor": role == DOCTOR,
        "patient": patient,
        "patient_age": age_on(patient.birth_date, slot.start.date()),
        "i18n": _room_strings(),
    }
    return render(request, "telemedicine/room.html", context)


@never_cache
@require_GET
@login_required
def consult_ice_servers(request: HttpRequest, public_id: str) -> JsonResponse:
    consultation, _role = consultation_for_account_or_404(public_id=public_id, account=request.user)
    return JsonResponse(ice_servers_for(consultation=consultation, account=request.user))


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
    return render(
        request,
        "telemedicine/doctor_day.html",
        {
            "doctor": doctor,
            "day": day,
            "slots": slots,
            "zone": doctor.hospital.timezone,
            # "Call next" belongs to in-person sessions only.
            "queue": doctor_queue_today(doctor=doctor)
            if any(slot.mode == "in_person" for slot in slots)
            else None,
        },
    )


@require_POST
@login_required
def doctor_call_next(request: HttpRequest) -> HttpResponse:
    """ "Call next" of an in-person session: the next checked-in patient is called in and the
    waiting-room display shows their number (appointments/queue.py)."""
    doctor = doctor_for_account(account=request.user)
    if doctor is None:
        raise Http404
    seen = request.POST.get("seen_last", "")
    try:
        called = queue_call_next(
            doctor=doctor, by=request.user, seen_last=int(seen) if seen.isdigit() else None
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
