"""Reads of consults: who may open a room, what was said in it (DESIGN.md §3 "Consults")."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db.models import Prefetch
from django.http import Http404

from appointments.models import Appointment, Slot
from hospitals.models import Doctor
from records.models import ConsentKind
from records.selectors import account_acts_for, patient_has_consent
from telemedicine.models import ChatMessage, Consultation

DOCTOR = "doctor"
PATIENT = "patient"
# A remote consultation (远程会诊): the cloud hospital's specialist (the appointment's doctor)
# and the clinic doctor who called them in; the patient only when invited to join from home.
SPECIALIST = "specialist"
GP = "gp"
# Who runs a room: admits, ends.
HOSTS = (DOCTOR, SPECIALIST)


def consultation_role(*, consultation: Consultation, account: Any) -> str | None:
    """`doctor` for the appointment's doctor's account, `patient` for an account with a live
    link to the patient, None for anyone else (staff by role alone included). In a remote
    consultation the appointment's doctor is the `specialist`, the clinic doctor who booked it
    the `gp`, and the patient side has no place unless the clinic doctor invited it."""
    if account is None or not getattr(account, "is_authenticated", False):
        return None
    appointment = consultation.appointment
    remote = consultation.is_remote
    if appointment.slot.doctor.user_id == account.pk:
        return SPECIALIST if remote else DOCTOR
    if remote and consultation.gp_id == account.pk:
        return GP
    if remote and not consultation.patient_invited:
        return None
    linked = account_acts_for(account=account, patient=appointment.patient_id)
    return PATIENT if linked else None


def participant_name(
    *, consultation: Consultation, account: Any, role: str, localised: bool = True
) -> str:
    """The name a room shows for a participant: the doctor's name (in the active language
    unless `localised=False`: the record keeps the name itself), or the patient's."""
    if role in HOSTS:
        doctor = consultation.appointment.slot.doctor
    elif role == GP:
        doctor = doctor_for_account(account=account)
        if doctor is None:
            return account.get_full_name()
    else:
        return consultation.appointment.patient.name
    return doctor.display_name if localised else doctor.name


def telemedicine_consent_given(*, consultation: Consultation) -> bool:
    """Whether the patient has a live telemedicine consent (the patient side needs one to join;
    the doctor side does not)."""
    return patient_has_consent(
        patient=consultation.appointment.patient, kind=ConsentKind.TELEMEDICINE
    )


def consultation_get(*, public_id: uuid.UUID | str) -> Consultation | None:
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError:
        return None
    return (
        Consultation.objects.select_related(
            "appointment",
            "appointment__patient",
            "appointment__slot",
            "appointment__slot__doctor",
            "appointment__slot__site",
        )
        .filter(public_id=public_id)
        .first()
    )


def consultation_for_account(
    *, public_id: uuid.UUID | str, account: Any
) -> tuple[Consultation, str] | None:
    consultation = consultation_get(public_id=public_id)
    if consultation is None:
        return None
    role = consultation_role(consultation=consultation, account=account)
    if role is None:
        return None
    return consultation, role


def consultation_for_account_or_404(
    *, public_id: uuid.UUID | str, account: Any
) -> tuple[Consultation, str]:
    """The consult and the account's role in it; 404 for anyone the room is not for, so a
    stranger learns nothing, not even that the room exists."""
    found = consultation_for_account(public_id=public_id, account=account)
    if found is None:
        raise Http404
    return found


def chat_history(*, consultation: Consultation, limit: int = 200) -> list[ChatMessage]:
    """The last `limit` messages, oldest first, with their senders."""
    recent = list(
        ChatMessage.objects.filter(consultation=consultation)
        .select_related("sender")
        .order_by("-created_at", "-pk")[:limit]
    )
    recent.reverse()
    return recent


def doctor_for_account(*, account: Any):
    """The Doctor behind this account, or None."""
    if account is None or not getattr(account, "is_authenticated", False):
        return None
    return Doctor.objects.select_related("hospital").filter(user_id=account.pk).first()


def doctor_day(*, doctor, day: dt.date) -> list:
    """The doctor's slots on `day` (the hospital's local day), online and in person, each with
    its appointments (cancelled ones left out), the patients and the consult rooms: three
    queries whatever the number of rows."""
    start, end = doctor.hospital.local_day_bounds(day)
    appointments = (
        Appointment.objects.exclude(status=Appointment.Status.CANCELLED)
        .select_related("patient", "consultation", "queue")
        .order_by("created_at", "pk")
    )
    return list(
        Slot.objects.filter(doctor=doctor, start__gte=start, start__lt=end)
        .select_related("site")
        .prefetch_related(
            Prefetch("appointments", queryset=appointments, to_attr="day_appointments")
        )
        .order_by("start", "mode")
    )


def remote_consultations_of_visit(*, visit: Appointment) -> list[Consultation]:
    """The remote consultations asked during this visit, with their specialist and time."""
    if visit.encounter_id is None:
        return []
    return list(
        Consultation.objects.filter(requested_in_id=visit.encounter_id)
        .select_related(
            "appointment",
            "appointment__slot",
            "appointment__slot__doctor",
            "appointment__slot__department",
            "appointment__slot__site",
        )
        .order_by("appointment__slot__start", "pk")
    )


def remote_visit_of(*, consultation: Consultation) -> Appointment | None:
    """The clinic visit a remote consultation was asked during (its encounter's appointment)."""
    if consultation.requested_in_id is None:
        return None
    return (
        Appointment.objects.select_related("slot__site", "slot__doctor")
        .filter(encounter_id=consultation.requested_in_id)
        .first()
    )
