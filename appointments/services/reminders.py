"""Reminders before each appointment (settings.REMINDER_OFFSETS_HOURS, e.g. 24 h and 2 h).

The job claims due appointments in batches with `select_for_update(skip_locked=True)` (so any
number of workers may run it at once), writes each reminder to the outbox (unique per
appointment and offset) and records the offset on the appointment, all in one transaction per
batch: no ETA tasks, nothing lost when a worker dies, nothing written twice.

When several reminders are due at once (a late booking, or a worker that was down) only the
latest is sent; none once the appointment has started.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from appointments.ics import appointment_ics, appointment_url
from appointments.models import Appointment
from appointments.services.messages import KIND_BOOKED, appointment_path, when
from notifications.models import OutboxMessage
from notifications.services import outbox_rows, outbox_write


def reminder_offsets() -> list[int]:
    """Hours before the start, largest first."""
    return sorted({int(hours) for hours in settings.REMINDER_OFFSETS_HOURS}, reverse=True)


def _due(now: dt.datetime, offsets: list[int]) -> Q:
    """Booked, not started, and within an offset smaller than the last one reminded of."""
    due = Q(pk__in=[])
    ascending = sorted(offsets)
    for index, hours in enumerate(ascending):
        band = Q(slot__start__lte=now + dt.timedelta(hours=hours))
        band &= Q(slot__start__gt=now + dt.timedelta(hours=ascending[index - 1]) if index else now)
        due |= band & (Q(reminded_hours=None) | Q(reminded_hours__gt=hours))
    return due


def _one_to_one_joins() -> list[str]:
    """telemedicine hangs a `consultation` off online appointments (appointments never imports
    it): join it into the claiming query when it exists, not one query per reminder."""
    names = {rel.name for rel in Appointment._meta.related_objects if rel.one_to_one}
    return [name for name in ("consultation",) if name in names]


def _latest_due_offset(appointment: Appointment, now: dt.datetime, offsets: list[int]) -> int:
    return min(h for h in offsets if appointment.slot.start <= now + dt.timedelta(hours=h))


def _languages(appointments: list[Appointment]) -> dict[int, str]:
    """Each appointment's reminder speaks the language its booking confirmation was written in."""
    return dict(
        OutboxMessage.objects.filter(
            kind=KIND_BOOKED,
            channel="email",
            subject_type__app_label="appointments",
            subject_type__model="appointment",
            subject_id__in=[str(a.pk) for a in appointments],
        ).values_list("subject_id", "language")
    )


def _reminder_rows(appointment: Appointment, hours: int) -> list[OutboxMessage]:
    """The e-mail (with the .ics) and the inbox entry of one reminder, in the active language."""
    consultation = getattr(appointment, "consultation", None)
    room = ""
    if consultation is not None and hasattr(consultation, "get_absolute_url"):
        room = f"{settings.SITE_URL}{consultation.get_absolute_url()}"
    names = {"doctor": appointment.slot.doctor.display_name, "when": when(appointment)}
    title = ngettext(
        "Reminder: in %(hours)s hour, %(doctor)s, %(when)s",
        "Reminder: in %(hours)s hours, %(doctor)s, %(when)s",
        hours,
    ) % {**names, "hours": hours}
    body = render_to_string(
        "appointments/email/reminder.txt",
        {
            "appointment": appointment,
            "slot": appointment.slot,
            "url": appointment_url(appointment),
            "when": when(appointment),
            "room": room,
        },
    )
    account = appointment.booked_by
    kind = f"reminder.{hours}h"
    email = outbox_rows(
        account=account,
        kind=kind,
        subject=appointment,
        channels=("email",),
        context={"title": title, "body": body, "link": room or appointment_url(appointment)},
        ics=[
            (
                f"{appointment.code}.ics",
                appointment_ics(appointment, attendee_email=account.email),
                "REQUEST",
            )
        ],
        expires_at=appointment.slot.start,
    )
    inapp = outbox_rows(
        account=account,
        kind=kind,
        subject=appointment,
        channels=("inapp",),
        context={
            "title": title,
            "body": _("%(person)s with %(doctor)s, %(when)s. Code %(code)s.")
            % {**names, "person": appointment.patient.name, "code": appointment.code},
            "link": room.removeprefix(settings.SITE_URL) or appointment_path(appointment),
        },
        expires_at=appointment.slot.start,
    )
    return email + inapp


def reminders_send_due_batch(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """One batch: claim up to `batch` due appointments and write their latest due reminder.
    Returns how many were claimed."""
    now = now or timezone.now()
    offsets = reminder_offsets()
    if not offsets:
        return 0
    with transaction.atomic():
        appointments = list(
            Appointment.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(_due(now, offsets), status=Appointment.Status.BOOKED)
            .select_related(
                "patient",
                "booked_by",
                "slot",
                "slot__doctor",
                "slot__site",
                "slot__department",
                *_one_to_one_joins(),
            )
            .order_by("slot__start", "pk")[:batch]
        )
        languages = _languages(appointments)
        rows: list[OutboxMessage] = []
        reminded: dict[int, list[int]] = defaultdict(list)
        for appointment in appointments:
            hours = _latest_due_offset(appointment, now, offsets)
            language = languages.get(str(appointment.pk)) or settings.LANGUAGE_CODE
            with translation.override(language):
                rows.extend(_reminder_rows(appointment, hours))
            reminded[hours].append(appointment.pk)
        # The whole batch in a few statements: one look and one INSERT for the outbox, one
        # UPDATE per offset for the appointments.
        outbox_write(rows=rows)
        for hours, pks in reminded.items():
            Appointment.objects.filter(pk__in=pks).update(reminded_hours=hours)
    return len(appointments)


def reminders_send_due(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Every due reminder, batch after batch. Safe any time, any number of times, in parallel."""
    total = 0
    while True:
        claimed = reminders_send_due_batch(now=now, batch=batch)
        total += claimed
        if claimed < batch:
            return total
