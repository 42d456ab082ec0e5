""" "Who has seen my record": the staff reads of one person's record, from the audit trail.

Reads by the person's own accounts are never audited (records.access.record_read_audit), so
every row here is a member of staff: a doctor through a booking, an encounter, a referral, or
emergency (break-glass) access.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Page, Paginator

from audit.models import AuditEvent
from records.models import Patient
from records.selectors import patient_links

READ_ACTIONS = ("record.read", "record.break_glass")
PER_PAGE = 50


@dataclass
class ReaderRow:
    event: AuditEvent
    name: str
    doctor: Any | None  # hospitals.Doctor, when the reader is one
    roles: list[Any]  # hospitals.StaffMembership rows of the reader

    @property
    def action(self) -> str:
        return self.event.action

    @property
    def what(self) -> str:
        return self.event.data.get("what", "")

    @property
    def reason(self) -> str:
        return self.event.data.get("reason", "")


def record_read_events(*, patient: Patient):
    patient_type = ContentType.objects.get_for_model(Patient)
    return (
        AuditEvent.objects.filter(
            on_behalf_type=patient_type,
            on_behalf_id=str(patient.pk),
            action__in=READ_ACTIONS,
            result=AuditEvent.Result.SUCCESS,
            actor__isnull=False,
        )
        # Belt and braces: an account acting for the person is family, never a "reader".
        .exclude(actor_id__in=patient_links(patient=patient).values("account_id"))
        .select_related("actor")
        .order_by("-at", "-id")
    )


def record_readers(*, patient: Patient, page: Any = 1) -> tuple[Page, list[ReaderRow]]:
    """One page of staff reads, newest first, each with who read (name, doctor and hospital,
    staff roles): a fixed number of queries whatever the page holds."""
    from hospitals.models import Doctor, StaffMembership

    paginator = Paginator(record_read_events(patient=patient), PER_PAGE)
    current = paginator.get_page(page)
    events = list(current.object_list)
    actor_ids = {event.actor_id for event in events}
    doctors = {
        doctor.user_id: doctor
        for doctor in Doctor.objects.filter(user_id__in=actor_ids).select_related(
            "hospital", "department"
        )
    }
    roles: dict[int, list[StaffMembership]] = {}
    for membership in StaffMembership.objects.filter(user_id__in=actor_ids).select_related(
        "hospital"
    ):
        roles.setdefault(membership.user_id, []).append(membership)
    rows = [
        ReaderRow(
            event=event,
            name=event.actor.get_full_name() or event.actor_label,
            doctor=doctors.get(event.actor_id),
            roles=roles.get(event.actor_id, []),
        )
        for event in events
    ]
    return current, rows
