"""Booking messages through the outbox (notifications.notify): written inside the booking's
transaction, so a rolled-back booking tells nobody and a booking never waits on (or fails with)
the mail server or the broker; a worker delivers them. The e-mail carries the .ics; no visit
reason or full ID number ever goes into a message. Rendered now, in the language of the request
that caused them (the worker has no request)."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from appointments.ics import appointment_ics, appointment_url
from appointments.models import Appointment
from appointments.selectors.alternatives import closure_alternatives, offer_token
from notifications.services import notify

KIND_BOOKED = "appointment.booked"
KIND_MOVED = "appointment.moved"
KIND_CANCELLED = "appointment.cancelled"


def _load(pk: int) -> Appointment | None:
    return (
        Appointment.objects.select_related(
            "patient",
            "booked_by",
            "cap_account",
            "slot",
            "slot__doctor",
            "slot__site",
            "slot__department",
        )
        .filter(pk=pk)
        .first()
    )


def when_slot(slot) -> str:
    start = timezone.localtime(slot.start, slot.site.zone)
    return f"{date_format(start, 'MONTH_DAY_FORMAT')} {start:%H:%M}"


def when(appointment: Appointment) -> str:
    return when_slot(appointment.slot)


def appointment_path(appointment: Appointment) -> str:
    return reverse("appointment_detail", args=[appointment.code])


def _body(appointment: Appointment, template: str, **context) -> str:
    return render_to_string(
        template,
        {
            "appointment": appointment,
            "slot": appointment.slot,
            "url": appointment_url(appointment),
            "when": when(appointment),
            **context,
        },
    )


def tell(
    appointment: Appointment,
    *,
    kind: str,
    title: str,
    email_body: str,
    summary: str,
    files: list | None = None,
) -> None:
    """One e-mail (with its calendar files) and one inbox entry for whoever booked."""
    account = appointment.told_account
    notify(
        account=account,
        kind=kind,
        subject=appointment,
        channels=("email",),
        context={"title": title, "body": email_body, "link": appointment_url(appointment)},
        ics=files or None,
    )
    notify(
        account=account,
        kind=kind,
        subject=appointment,
        channels=("inapp",),
        context={"title": title, "body": summary, "link": appointment_path(appointment)},
    )


def booked(appointment: Appointment, *, old: Appointment | None = None) -> None:
    email = appointment.told_account.email
    doctor = appointment.slot.doctor.display_name
    names = {"doctor": doctor, "when": when(appointment)}
    if old is not None:
        kind, title = KIND_MOVED, _("Appointment moved: %(doctor)s, %(when)s") % names
    else:
        kind, title = KIND_BOOKED, _("Appointment booked: %(doctor)s, %(when)s") % names
    files = [
        (f"{appointment.code}.ics", appointment_ics(appointment, attendee_email=email), "REQUEST")
    ]
    if old is not None:
        # The old time leaves the calendar: its own UID, cancelled.
        files.append(
            (f"{old.code}-cancelled.ics", appointment_ics(old, attendee_email=email), "CANCEL")
        )
    tell(
        appointment,
        kind=kind,
        title=title,
        email_body=_body(
            appointment,
            "appointments/email/booked.txt",
            old=old,
            old_when=when(old) if old is not None else "",
            cutoff_hours=appointment.slot.site.cancellation_cutoff_hours,
        ),
        summary=_("%(person)s with %(doctor)s, %(when)s. Code %(code)s.")
        % {**names, "person": appointment.patient.name, "code": appointment.code},
        files=files,
    )


def offers(appointment: Appointment) -> list[dict]:
    """A stopped clinic's notice offers ranked alternatives, each with its one-click link."""

    offered = []
    for alternative in closure_alternatives(appointment=appointment):
        path = reverse(
            "appointment_rebook", args=[offer_token(appointment=appointment, slot=alternative.slot)]
        )
        offered.append(
            {
                "label": str(alternative.label),
                "doctor": alternative.slot.doctor.display_name,
                "site": alternative.slot.site.display_name,
                "when": when_slot(alternative.slot),
                "path": path,
                "url": f"https://{settings.SITE_DOMAIN}{path}",
            }
        )
    return offered


def cancelled(appointment: Appointment) -> None:
    email = appointment.told_account.email
    names = {"doctor": appointment.slot.doctor.display_name, "when": when(appointment)}
    alternatives: list[dict] = []
    if appointment.cancel_reason == Appointment.CancelReason.CLOSURE:
        title = _("Clinic stopped — appointment cancelled: %(doctor)s, %(when)s") % names
        alternatives = offers(appointment)
    else:
        title = _("Appointment cancelled: %(doctor)s, %(when)s") % names
    summary = _("%(person)s with %(doctor)s, %(when)s: %(why)s.") % {
        **names,
        "person": appointment.patient.name,
        "why": appointment.get_cancel_reason_display(),
    }
    if alternatives:
        summary += "\n" + render_to_string(
            "appointments/email/alternatives.txt", {"alternatives": alternatives}
        )
    tell(
        appointment,
        kind=KIND_CANCELLED,
        title=title,
        email_body=_body(
            appointment, "appointments/email/cancelled.txt", alternatives=alternatives
        ),
        summary=summary.strip(),
        files=[
            (
                f"{appointment.code}.ics",
                appointment_ics(appointment, attendee_email=email),
                "CANCEL",
            )
        ],
    )


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def messages_for_booking(
    *, appointment: Appointment, rescheduled_from: Appointment | None = None
) -> None:
    """The confirmation (or, with `rescheduled_from`, the "moved") message, in the outbox of the
    booking's transaction. A patient promoted from the waiting list is booked through the same
    service, so is told the same way."""
    fresh = _load(appointment.pk)
    old = _load(rescheduled_from.pk) if rescheduled_from is not None else None
    if fresh is None:
        return
    with translation.override(_language()):
        booked(fresh, old=old)


def messages_for_cancellation(*, appointment: Appointment, reason: str) -> None:
    """A cancellation with METHOD:CANCEL, in the outbox of the cancel's transaction. A
    reschedule's old appointment is cancelled inside the "moved" message instead."""
    if reason == Appointment.CancelReason.RESCHEDULED:
        return
    fresh = _load(appointment.pk)
    if fresh is None:
        return
    with translation.override(_language()):
        cancelled(fresh)
