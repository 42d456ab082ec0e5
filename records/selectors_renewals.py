"""Reads of repeat prescriptions (issue 20): what the family may renew on the record page, a
doctor's renewal queue, one request as its handler sees it, and whether a doctor may read a
record because a request waits for them (records.access). A fixed number of queries whatever
the number of prescriptions or requests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from records.access import RecordAccess
from records.models import Prescription, PrescriptionItem, Problem, RenewalRequest
from records.selectors import renewal_queue_filter
from records.services.renewals import Eligibility, renewal_eligibility, renewal_handler


@dataclass
class Renewable:
    """One signed prescription on the family's record page, with whether it may be renewed."""

    prescription: Prescription
    eligibility: Eligibility
    pending: RenewalRequest | None


def _items() -> Prefetch:
    return Prefetch("items", queryset=PrescriptionItem.objects.select_related("drug"))


def renewals_for_record(
    *, access: RecordAccess, problems: list[Problem], now: dt.datetime | None = None
) -> tuple[list[Renewable], list[RenewalRequest]]:
    """(renewable, requests): the person's newest signed prescriptions of chronic-care drugs
    with their eligibility, and every renewal request, newest first. One query without a
    chronic problem; four with one (requests, prescriptions, their items, their renewals).
    `problems` are the standing problems the caller already read (record_timeline)."""
    if not access.allowed:
        return [], []
    patient = access.patient
    requests = list(
        access.filter(RenewalRequest.objects.filter(patient=patient))
        .select_related("doctor", "renewed", "prescription", "department__hospital")
        .order_by("-created_at", "-id")
    )
    if not any(problem.is_chronic for problem in problems):
        return [], requests  # nothing to renew: no query for the prescriptions
    prescriptions = list(
        access.filter(
            Prescription.objects.filter(
                encounter__patient=patient,
                signed_at__isnull=False,
                items__drug__is_chronic_care=True,
            ).distinct(),
            hospital_field="encounter__hospital",
        )
        .select_related("encounter__doctor__user", "encounter__department", "encounter__hospital")
        .prefetch_related(_items(), Prefetch("renewed_by", to_attr="successors"))
        .order_by("-signed_at", "-id")
    )
    pending = {r.prescription_id: r for r in requests if r.is_pending}
    now = now or timezone.now()
    renewable = []
    for prescription in prescriptions:
        renewed = any(rx.signed_at for rx in prescription.successors)
        if renewed:
            continue  # its renewal is the one to renew
        eligibility = renewal_eligibility(
            prescription=prescription,
            problems=problems,
            renewed=False,
            pending=prescription.pk in pending,
            now=now,
        )
        if eligibility.code == "not_chronic":
            continue
        renewable.append(
            Renewable(
                prescription=prescription,
                eligibility=eligibility,
                pending=pending.get(prescription.pk),
            )
        )
    return renewable, requests


def renewable_for_family(*, access: RecordAccess, public_id: Any) -> Renewable | None:
    """One prescription of the record's person as the renewal page shows it, or None."""
    problems = list(
        access.filter(Problem.objects.filter(patient=access.patient, resolved_at__isnull=True))
    )
    renewable, _requests = renewals_for_record(access=access, problems=problems)
    return next(
        (row for row in renewable if str(row.prescription.public_id) == str(public_id)), None
    )


def renewal_queue(*, user: Any) -> list[RenewalRequest]:
    """The renewal requests waiting for this doctor, oldest first, with the person, the
    problem, the drugs and the last prescription's date: two queries, plus one for the
    account's departments."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    return list(
        RenewalRequest.objects.filter(renewal_queue_filter(user=user))
        .select_related("patient", "problem", "prescription", "doctor", "department")
        .prefetch_related(Prefetch("prescription__items", queryset=_item_rows()))
        .order_by("created_at", "id")
    )


def _item_rows() -> QuerySet[PrescriptionItem]:
    return PrescriptionItem.objects.select_related("drug")


def renewal_for_handler(*, user: Any, public_id: Any) -> RenewalRequest | None:
    """One request as its handler sees it: pending and in their queue, or answered by them.
    None for anyone else (a 404)."""
    renewal = (
        RenewalRequest.objects.filter(public_id=public_id)
        .select_related(
            "patient",
            "problem",
            "doctor__user",
            "department__hospital",
            "prescription__encounter__doctor",
            "prescription__encounter__hospital",
            "renewed",
            "requested_by",
        )
        .prefetch_related(
            Prefetch("prescription__items", queryset=_item_rows()),
            Prefetch("renewed__items", queryset=_item_rows()),
        )
        .first()
    )
    if renewal is None or getattr(user, "pk", None) is None:
        return None
    if renewal.is_pending:
        return renewal if renewal_handler(renewal=renewal, user=user) is not None else None
    return renewal if renewal.decided_by_id == user.pk else None
