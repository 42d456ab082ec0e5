"""Reads of the clinical record, always through a RecordAccess (records/access.py).

`record_timeline(access=...)` is what the patient's "My record", the consult room, the visit
page and FHIR `$everything` show: every encounter the reader may see, newest first, with its
notes (and addenda), prescriptions (and items), referrals and attachments prefetched, plus the
live allergies and standing problems. A fixed number of queries whatever the record's size.
The caller writes the read's AuditEvent (`record_read_audit`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from records.access import RecordAccess
from records.models import (
    Allergy,
    Attachment,
    ClinicalNote,
    Encounter,
    Prescription,
    PrescriptionItem,
    Problem,
    Referral,
)


@dataclass
class RecordTimeline:
    encounters: list[Encounter]
    allergies: list[Allergy]
    problems: list[Problem]
    attachments: list[Attachment]  # every attachment, with or without an encounter


def encounters_visible(*, access: RecordAccess) -> QuerySet[Encounter]:
    return access.filter(Encounter.objects.filter(patient=access.patient))


def record_timeline(*, access: RecordAccess) -> RecordTimeline:
    if not access.allowed:
        return RecordTimeline(encounters=[], allergies=[], problems=[], attachments=[])
    notes = ClinicalNote.objects.select_related("author").prefetch_related("addenda__author")
    # A renewal (issue 20) names its prior prescription's lines and the request it answers:
    # the prior's items are one more query, only for a record that has a renewal.
    prescriptions = Prescription.objects.select_related(
        "prescriber", "prior", "renewal_request"
    ).prefetch_related(
        Prefetch("items", queryset=PrescriptionItem.objects.select_related("drug")),
        Prefetch("prior__items", queryset=PrescriptionItem.objects.select_related("drug")),
    )
    referrals = Referral.objects.select_related("to_hospital", "to_department", "to_doctor")
    encounters = list(
        encounters_visible(access=access)
        .select_related("doctor", "hospital", "department")
        .prefetch_related(
            Prefetch("notes", queryset=notes),
            Prefetch("prescriptions", queryset=prescriptions),
            Prefetch("referrals", queryset=referrals),
        )
    )
    # A remote consultation's page shows who took part and when they joined: one more query,
    # only for a record that has one.
    remote = [encounter for encounter in encounters if encounter.mode == Encounter.Mode.REMOTE]
    if remote:
        prefetch_related_objects(remote, "participants")
    patient = access.patient
    allergies = list(
        access.filter(
            Allergy.objects.filter(patient=patient, removed_at__isnull=True)
        ).select_related("hospital")
    )
    problems = list(
        access.filter(
            Problem.objects.filter(patient=patient, resolved_at__isnull=True)
        ).select_related("hospital")
    )
    attachments = list(
        access.filter(Attachment.objects.filter(patient=patient)).select_related("encounter")
    )
    return RecordTimeline(
        encounters=encounters, allergies=allergies, problems=problems, attachments=attachments
    )
