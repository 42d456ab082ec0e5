"""The front desk's queue (issue 8): numbers handed out at an in-person check-in, per doctor per
site per local day, and the doctor's "call next", which the waiting-room display shows live.

Numbers come from one upsert of `DeskQueue.last_number` (INSERT … ON CONFLICT DO UPDATE …
RETURNING): the row lock PostgreSQL takes for it makes two desks checking in at once wait for
each other for the length of one statement, so they always get distinct numbers; a unique
constraint on (queue, number) holds the line should anything else write one.

Call order: of the doctor's checked-in patients not called yet, the one whose booked time is
earliest, then the lowest number (who checked in first). A patient who arrives early for a later
period does not jump the people booked before them.

Locks: a check-in holds its appointment, then the queue row (the upsert); "call next" holds the
doctor's queue rows, then locks a checked-in appointment. The two never wait on each other in a
circle: the appointment a check-in holds is still `booked` for everyone else, so "call next"
never selects it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from appointments.errors import CalledMeanwhile
from appointments.live import desk_display_changed
from appointments.models import Appointment, DeskQueue, Mode, Slot
from appointments.selectors.desk import masked_name
from audit.services import audit_record
from hospitals.models import Hospital


def _letter(index: int) -> str:
    """0 → A … 25 → Z, 26 → AA …: short enough for a TV line."""
    if index < 26:
        return chr(65 + index)
    return chr(65 + min(index // 26 - 1, 25)) + chr(65 + index % 26)


def queue_letter(*, doctor_id: int, site_id: int, day: dt.date) -> str:
    """The doctor's letter at this site on this day: their place, by id, among the doctors with
    an in-person period there that day. Stable through the day, so a patient's ticket and the
    display agree; it is written once, when the queue is made."""
    start, end = Hospital.objects.get(pk=site_id).local_day_bounds(day)
    doctors = list(
        Slot.objects.filter(site_id=site_id, mode=Mode.IN_PERSON, start__gte=start, start__lt=end)
        .order_by("doctor_id")
        .values_list("doctor_id", flat=True)
        .distinct()
    )
    return _letter(doctors.index(doctor_id) if doctor_id in doctors else len(doctors))


def queue_number_take(*, doctor_id: int, site_id: int, day: dt.date) -> tuple[DeskQueue, int]:
    """The next number of the doctor's queue at the site on `day`, made on first use.

    Call inside the check-in's transaction: the upsert's row lock is held until it commits.
    """
    letter = queue_letter(doctor_id=doctor_id, site_id=site_id, day=day)
    table = connection.ops.quote_name(DeskQueue._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (doctor_id, site_id, day, letter, last_number) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, 1) "
            "ON CONFLICT (doctor_id, site_id, day) "
            f"DO UPDATE SET last_number = {table}.last_number + 1 "
            "RETURNING id, last_number",
            [doctor_id, site_id, day, letter],
        )
        queue_id, number = cursor.fetchone()
    return DeskQueue.objects.get(pk=queue_id), number


def queue_assign(*, appointment: Appointment, day: dt.date) -> Appointment:
    """Give a just-checked-in in-person appointment its queue number.

    The caller holds the appointment's row lock (booking.appointment_check_in).
    """
    slot = appointment.slot
    queue, number = queue_number_take(doctor_id=slot.doctor_id, site_id=slot.site_id, day=day)
    appointment.queue = queue
    appointment.queue_number = number
    appointment.save(update_fields=["queue", "queue_number"])
    desk_display_changed(site_id=slot.site_id, message={"type": "queue.changed"})
    return appointment


def _doctor_today(doctor: Any, now: dt.datetime) -> dt.date:
    return now.astimezone(doctor.hospital.zone).date()


_UNCHECKED = object()


def queue_call_next(
    *,
    doctor: Any,
    by: Any,
    seen_last: Any = _UNCHECKED,
    now: dt.datetime | None = None,
) -> Appointment | None:
    """Call the doctor's next waiting patient in (see the module's call order); None when
    nobody is waiting. Audited; the waiting room of the patient's site hears it on commit.

    `seen_last` is the id of the appointment called last as the doctor's page showed it (None
    for nobody): when someone was called since (a double click, a second screen), nobody more
    is called and CalledMeanwhile says who was.
    """
    now = now or timezone.now()
    day = _doctor_today(doctor, now)
    with transaction.atomic():
        # One caller at a time per doctor.
        queues = list(
            DeskQueue.objects.select_for_update()
            .filter(doctor=doctor, day=day)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not queues:
            return None
        if seen_last is not _UNCHECKED:
            last = (
                Appointment.objects.filter(queue_id__in=queues, called_at__isnull=False)
                .select_related("queue")
                .order_by("-called_at", "-pk")
                .first()
            )
            if (last.pk if last else None) != seen_last:
                raise CalledMeanwhile(number=last.queue_label if last else "")
        appointment = (
            Appointment.objects.select_for_update(of=("self",))
            .filter(
                queue_id__in=queues,
                status=Appointment.Status.CHECKED_IN,
                called_at__isnull=True,
            )
            .select_related("queue", "patient", "slot", "slot__doctor")
            .order_by("slot__start", "queue_number", "pk")
            .first()
        )
        if appointment is None:
            return None
        appointment.called_at = now
        appointment.save(update_fields=["called_at"])
        label = appointment.queue_label
        audit_record(
            actor=by,
            action="appointment.called",
            target=appointment,
            on_behalf_of=appointment.patient,
            data={"queue": label},
        )
        desk_display_changed(
            site_id=appointment.queue.site_id,
            message={
                "type": "queue.called",
                "number": label,
                "patient": masked_name(appointment.patient.name),
                "doctor": doctor.pk,
            },
        )
    return appointment
