"""Reads of exams and their results (issue 15): the exams a reader of the record may see, a
department's reading queue, and one exam as its reader sees it. A fixed number of queries
whatever the number of exams, values or files."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from records.access import RecordAccess
from records.models import Attachment, Exam, Observation
from records.services.results import reader_department_ids


def _with_parts(queryset: QuerySet[Exam]) -> QuerySet[Exam]:
    return queryset.select_related(
        "patient",
        "hospital",
        "encounter__doctor",
        "reading_department__hospital",
        "signer",
    ).prefetch_related(
        Prefetch("observations", queryset=Observation.objects.order_by("position", "id")),
        Prefetch("files", queryset=Attachment.objects.order_by("created_at", "id")),
    )


def exams_visible(*, access: RecordAccess, final_only: bool) -> list[Exam]:
    """The exams `access` may see, newest first: the family sees signed reports only (as it
    sees signed notes only); staff also the ones still being read."""
    if not access.allowed:
        return []
    queryset = access.filter(Exam.objects.filter(patient=access.patient))
    if final_only:
        queryset = queryset.filter(status=Exam.Status.FINAL)
    return list(_with_parts(queryset))


def exams_of_accounts_people(*, patients: QuerySet, public_id: Any = None) -> list[Exam]:
    """The signed reports of the people in `patients` (the account's, read through links),
    oldest first; one report when `public_id` names it."""
    queryset = Exam.objects.filter(patient__in=patients, status=Exam.Status.FINAL)
    if public_id is not None:
        queryset = queryset.filter(public_id=public_id)
    return list(_with_parts(queryset).order_by("created_at", "id"))


def exams_of_encounter(*, encounter: Any) -> list[Exam]:
    return list(_with_parts(Exam.objects.filter(encounter=encounter)))


def reading_queue(*, user: Any) -> tuple[list[Exam], list[Exam]]:
    """(waiting, mine): the exams waiting in the account's departments, oldest first, and the
    ones it has claimed and not yet signed."""
    departments = reader_department_ids(user)
    queryset = Exam.objects.filter(
        Q(status=Exam.Status.SENT, reading_department_id__in=departments)
        | Q(status=Exam.Status.CLAIMED, reader=user)
    ).select_related("patient", "hospital", "encounter__doctor", "reading_department")
    rows = list(queryset.order_by("sent_at", "id"))
    waiting = [exam for exam in rows if exam.status == Exam.Status.SENT]
    mine = [exam for exam in rows if exam.status == Exam.Status.CLAIMED]
    return waiting, mine


def exam_for_reader(*, user: Any, public_id: Any) -> Exam | None:
    """The exam as a specialist of its department sees it: waiting for any of them, claimed
    or signed only for its reader. None for anyone else."""
    exam = (
        _with_parts(Exam.objects.filter(public_id=public_id))
        .select_related("patient", "encounter__hospital", "reader")
        .first()
    )
    if exam is None or exam.reading_department_id is None:
        return None
    user_id = getattr(user, "pk", None)
    if exam.status == Exam.Status.SENT:
        return exam if exam.reading_department_id in reader_department_ids(user) else None
    return exam if exam.reader_id == user_id and user_id is not None else None
