"""Booking messages through the outbox (notifications.notify): written inside the booking's
transaction, so a rolled-back booking tells nobody and a booking never waits on (or fails with)
the mail server or the broker; a worker delivers them.

Nothing is rendered here: each row keeps its kind, its language and a JSON snapshot of the
appointment (`appointment_snapshot`: time, doctor, place, code, links, the .ics facts), and
`notifications.render` turns it into e-mail, SMS and inbox text with the templates
`messages/<kind>/`. No visit reason or full ID number ever goes into a message. Every message
about an appointment goes to whoever booked it, on the channels they chose (e-mail, SMS to a
verified number), and always to their inbox; a stop-clinic notice always goes by SMS."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from appointments.ics import appointment_facts, both_languages
from appointments.models import Appointment
from appointments.selectors.alternatives import closure_alternatives, offer_token
from hospitals.when import format_when
from notifications.models import OutboxMessage
from notifications.services import notify

KIND_BOOKED = "appointment.booked"
KIND_PROMOTED = "appointment.promoted"  # booked from the waiting list: a place became free
KIND_MOVED = "appointment.moved"
KIND_CANCELLED = "appointment.cancelled"
KIND_CLOSED = "appointment.closed"

CHANNELS = (OutboxMessage.Channel.EMAIL, OutboxMessage.Channel.SMS, OutboxMessage.Channel.INAPP)


def when_slot(slot) -> str:
    return format_when(slot.start, zone=slot.site.zone)


def when(appointment: Appointment) -> str:
    return when_slot(appointment.slot)


def appointment_path(appointment: Appointment) -> str:
    return reverse("appointment_detail", args=[appointment.code])


def short_path(appointment: Appointment) -> str:
    """The site's own short link for texts: /a/<code> opens the appointment page for a
    signed-in account linked to it, and is a 404 for anyone else."""
    return reverse("appointment_short", args=[appointment.code])


def ics_file(appointment: Appointment, *, method: str, name: str = "") -> dict:
    facts = appointment_facts(appointment)
    if method == "CANCEL":
        facts["cancelled"] = True
    return {
        "builder": "appointment_ics",
        "name": name or f"{appointment.code}.ics",
        "method": method,
        "event": facts,
        "attendee": appointment.told_account.email or "",
    }


def appointment_snapshot(appointment: Appointment) -> dict:
    """What every message about `appointment` may say, as JSON; reads no rows beyond the
    appointment, its slot (doctor, site, department), its patient and its booker."""
    slot = appointment.slot
    site = slot.site
    facts = appointment_facts(appointment)
    return {
        "code": appointment.code,
        "tz": site.timezone,
        "start_at": facts["start_at"],
        "end_at": facts["end_at"],
        "online": facts["online"],
        "doctor": facts["doctor"],
        "department": both_languages(slot.department),
        "site": facts["site"],
        "address": facts["address"],
        "patient": appointment.patient.name,
        "id_masked": appointment.patient.id_number_masked,
        "fee": str(slot.fee),
        "cutoff_hours": site.cancellation_cutoff_hours,
        # The inbox's link and the texts' short link (`url`/`short_url` when rendered).
        "link": appointment_path(appointment),
        "detail_path": appointment_path(appointment),
        "path": short_path(appointment),
        "room_path": facts["room"].removeprefix(settings.SITE_URL),
    }


def booking_languages(appointments: list[Appointment]) -> dict[str, str]:
    """Each appointment's later messages (reminders, the consult room opening) speak the
    language its booking confirmation was written in: appointment id (str) -> language."""
    return dict(
        OutboxMessage.objects.filter(
            kind__in=(KIND_BOOKED, KIND_MOVED, KIND_PROMOTED),
            channel="inapp",
            subject_type__app_label="appointments",
            subject_type__model="appointment",
            subject_id__in=[str(a.pk) for a in appointments],
        ).values_list("subject_id", "language")
    )


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def _tell(appointment: Appointment, *, kind: str, params: dict, fresh: bool = False, **extra):
    notify(
        account=appointment.told_account,
        kind=kind,
        subject=appointment,
        params=params,
        channels=CHANNELS,
        language=_language(),
        chosen=True,
        fresh=fresh,
        **extra,
    )


def messages_for_booking(
    *, appointment: Appointment, rescheduled_from: Appointment | None = None, promoted: bool = False
) -> None:
    """The confirmation (or, with `rescheduled_from`, the "moved" message; with `promoted`, "a
    place became free, you are booked" for the waiting list), in the outbox of the booking's
    transaction. Reads nothing: the caller's rows are the snapshot."""
    params = appointment_snapshot(appointment)
    files = [ics_file(appointment, method="REQUEST")]
    kind = KIND_PROMOTED if promoted else KIND_BOOKED
    if rescheduled_from is not None:
        kind = KIND_MOVED
        params["old_start_at"] = rescheduled_from.slot.start.isoformat()
        # The old time leaves the calendar: its own UID, cancelled.
        files.append(
            ics_file(
                rescheduled_from,
                method="CANCEL",
                name=f"{rescheduled_from.code}-cancelled.ics",
            )
        )
    params["files"] = files
    _tell(appointment, kind=kind, params=params, fresh=True)


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
                "url": f"{settings.SITE_URL}{path}",
            }
        )
    return offered


def _offers_snapshot(appointment: Appointment) -> list[dict]:
    snapshot = []
    for alternative in closure_alternatives(appointment=appointment):
        slot = alternative.slot
        label = {}
        for language in ("zh-hans", "en"):
            with translation.override(language):
                label[language] = str(alternative.label)
        snapshot.append(
            {
                "label": label,
                "doctor": both_languages(slot.doctor),
                "site": both_languages(slot.site),
                "start_at": slot.start.isoformat(),
                "take_path": reverse(
                    "appointment_rebook", args=[offer_token(appointment=appointment, slot=slot)]
                ),
            }
        )
    return snapshot


def messages_for_cancellation(*, appointment: Appointment, reason: str, why: str = "") -> None:
    """A cancellation with METHOD:CANCEL, in the outbox of the cancel's transaction. A
    reschedule's old appointment is cancelled inside the "moved" message instead. A stopped
    clinic's notice says the reason the admin typed (`why`) and offers the alternatives, with
    the rebook link; it always goes by SMS."""
    if reason == Appointment.CancelReason.RESCHEDULED:
        return
    params = appointment_snapshot(appointment)
    params["files"] = [ics_file(appointment, method="CANCEL")]
    reason_label = {}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            reason_label[language] = str(Appointment.CancelReason(reason).label)
    params["cancel_reason"] = reason_label
    if reason == Appointment.CancelReason.CLOSURE:
        params["why"] = why
        # Each with its one-click link in the e-mail and the inbox; the text message links
        # the appointment page (/a/<code>), which offers the same places.
        params["alternatives"] = _offers_snapshot(appointment)
        _tell(appointment, kind=KIND_CLOSED, params=params, always=(OutboxMessage.Channel.SMS,))
        return
    _tell(appointment, kind=KIND_CANCELLED, params=params)
