"""Booking e-mails with the calendar file attached. Sent on commit: a rolled-back booking tells
nobody. No visit reason or full ID number ever goes into an e-mail."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from appointments.calendar import appointment_ics, appointment_url
from appointments.models import Appointment


def _load(pk: int) -> Appointment | None:
    return (
        Appointment.objects.select_related(
            "patient", "booked_by", "slot", "slot__doctor", "slot__site", "slot__department"
        )
        .filter(pk=pk)
        .first()
    )


def _when(appointment: Appointment) -> str:
    start = timezone.localtime(appointment.slot.start, appointment.slot.site.zone)
    return f"{date_format(start, 'MONTH_DAY_FORMAT')} {start:%H:%M}"


def _send(appointment: Appointment, *, subject: str, template: str, files: list, **context) -> None:
    email = appointment.booked_by.email
    if not email:
        return
    body = render_to_string(
        template,
        {
            "appointment": appointment,
            "slot": appointment.slot,
            "url": appointment_url(appointment),
            "when": _when(appointment),
            **context,
        },
    )
    message = EmailMessage(subject=subject, body=body, to=[email])
    for name, content, method in files:
        message.attach(name, content, f"text/calendar; method={method}; charset=utf-8")
    message.send()


def send_booked(*, appointment_id: int, language: str, old_id: int | None = None) -> None:
    appointment = _load(appointment_id)
    if appointment is None:
        return
    old = _load(old_id) if old_id else None
    email = appointment.booked_by.email
    with translation.override(language):
        doctor = appointment.slot.doctor.display_name
        if old is None:
            subject = _("Appointment booked: %(doctor)s, %(when)s") % {
                "doctor": doctor,
                "when": _when(appointment),
            }
        else:
            subject = _("Appointment moved: %(doctor)s, %(when)s") % {
                "doctor": doctor,
                "when": _when(appointment),
            }
        files = [
            (
                f"{appointment.code}.ics",
                appointment_ics(appointment, attendee_email=email),
                "REQUEST",
            )
        ]
        if old is not None:
            # The old time leaves the calendar: its own UID, cancelled.
            files.append(
                (f"{old.code}-cancelled.ics", appointment_ics(old, attendee_email=email), "CANCEL")
            )
        _send(
            appointment,
            subject=subject,
            template="appointments/email/booked.txt",
            files=files,
            old=old,
            old_when=_when(old) if old is not None else "",
            cutoff_hours=appointment.slot.site.cancellation_cutoff_hours,
        )


def send_cancelled(*, appointment_id: int, language: str) -> None:
    appointment = _load(appointment_id)
    if appointment is None:
        return
    email = appointment.booked_by.email
    with translation.override(language):
        subject = _("Appointment cancelled: %(doctor)s, %(when)s") % {
            "doctor": appointment.slot.doctor.display_name,
            "when": _when(appointment),
        }
        _send(
            appointment,
            subject=subject,
            template="appointments/email/cancelled.txt",
            files=[
                (
                    f"{appointment.code}.ics",
                    appointment_ics(appointment, attendee_email=email),
                    "CANCEL",
                )
            ],
        )


def on_appointment_booked(sender, *, appointment, by=None, rescheduled_from=None, **kwargs) -> None:
    """Receiver of `appointment_booked`: the confirmation (or "moved") e-mail, on commit."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    appointment_id = appointment.pk
    old_id = rescheduled_from.pk if rescheduled_from is not None else None
    transaction.on_commit(
        lambda: send_booked(appointment_id=appointment_id, language=language, old_id=old_id)
    )


def on_appointment_cancelled(sender, *, appointment, by=None, reason="", **kwargs) -> None:
    """Receiver of `appointment_cancelled`: a cancellation with METHOD:CANCEL, on commit. A
    reschedule's old appointment is cancelled inside the "moved" e-mail instead."""
    if reason == Appointment.CancelReason.RESCHEDULED:
        return
    language = translation.get_language() or settings.LANGUAGE_CODE
    appointment_id = appointment.pk
    transaction.on_commit(lambda: send_cancelled(appointment_id=appointment_id, language=language))
