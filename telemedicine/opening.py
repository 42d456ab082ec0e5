""" "Your consult room is open": one SMS and one inbox entry when an online consult's room opens
(CONSULT_OPENS_MINUTES_BEFORE before the start, when the patient can join), to the account told
of the appointment (`Appointment.told_account`), on the channels it chose.

Claimed like the reminders: a beat task takes the rooms that opened and whose people are not told
yet with `select_for_update(skip_locked=True)`, writes the outbox rows (a snapshot, rendered at
delivery, with the short link `/a/<code>`) and marks the room told, in one transaction per batch:
any number of workers, nothing twice, nothing lost when a worker dies. A room is told only
before its consult starts, and not when the booking was made with the room already open (the
confirmation said how to join).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from appointments.ics import names_remembered
from appointments.models import Appointment
from appointments.services.messages import appointment_snapshot, booking_languages
from notifications.models import OutboxMessage
from notifications.services import outbox_rows, outbox_write
from telemedicine.models import Consultation

KIND_OPENING = "consult.opening"
CHANNELS = (OutboxMessage.Channel.SMS, OutboxMessage.Channel.INAPP)


def _opens_before() -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, "CONSULT_OPENS_MINUTES_BEFORE", 15)))


def consults_tell_opening_batch(*, now: dt.datetime | None = None, batch: int = 200) -> int:
    """One batch: claim up to `batch` rooms open now and not told, write their messages, mark
    them told. Returns how many were claimed."""
    now = now or timezone.now()
    with transaction.atomic(), names_remembered():
        claimed = list(
            Consultation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                # Bounded by the window (the partial index): rooms of long ago are never walked.
                opening_told_at=None,
                opens_at__lte=now,
                opens_at__gt=now - _opens_before(),
                status=Consultation.Status.SCHEDULED,
                appointment__status=Appointment.Status.BOOKED,
                appointment__slot__start__gt=now,
                appointment__created_at__lt=F("opens_at"),
            )
            # A remote consultation's patient sits with the clinic doctor unless invited.
            .filter(Q(gp=None) | Q(patient_invited=True))
            .order_by("opens_at", "pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not claimed:
            return 0
        appointments = list(
            Appointment.objects.filter(consultation__pk__in=claimed).select_related(
                "patient",
                "booked_by",
                "cap_account",
                "slot",
                "slot__doctor",
                "slot__site",
                "slot__department",
                "consultation",
            )
        )
        languages = booking_languages(appointments)
        rows: list[OutboxMessage] = []
        for appointment in appointments:
            rows.extend(
                outbox_rows(
                    account=appointment.told_account,
                    kind=KIND_OPENING,
                    subject=appointment,
                    params=appointment_snapshot(appointment),
                    channels=CHANNELS,
                    language=languages.get(str(appointment.pk)) or settings.LANGUAGE_CODE,
                    chosen=True,
                    # Worth nothing once the room has closed.
                    expires_at=appointment.consultation.closes_at,
                )
            )
        outbox_write(rows=rows)
        Consultation.objects.filter(pk__in=claimed).update(opening_told_at=now)
    return len(claimed)


def consults_tell_opening(*, now: dt.datetime | None = None, batch: int = 200) -> int:
    """Every room open now and not told, batch after batch. Safe any time, in parallel."""
    total = 0
    while True:
        claimed = consults_tell_opening_batch(now=now, batch=batch)
        total += claimed
        if claimed < batch:
            return total
