"""Reads of consults: who may open a room, what was said in it (DESIGN.md §3 "Consults")."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404

from records.models import PatientLink
from telemedicine.models import ChatMessage, Consultation

DOCTOR = "doctor"
PATIENT = "patient"


def consultation_role(*, consultation: Consultation, account: Any) -> str | None:
    """`doctor` for the appointment's doctor's account, `patient` for an account with a live
    link to the patient, None for anyone else (staff by role alone included)."""
    if account is None or not getattr(account, "is_authenticated", False):
        return None
    appointment = consultation.appointment
    if appointment.slot.doctor.user_id == account.pk:
        return DOCTOR
    linked = (
        PatientLink.objects.live()
        .filter(patient_id=appointment.patient_id, account_id=account.pk)
        .exists()
    )
    return PATIENT if linked else None


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
