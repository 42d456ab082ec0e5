"""Reads of the family-doctor teams: a clinic's teams, the teams an account belongs to, the
family's signings, a team's panel and its follow-ups."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from appointments.familydoctors.models import FamilySigning, FamilyTeam, FollowUpTask
from records.models import (
    Consent,
    ConsentKind,
    Encounter,
    Prescription,
    Problem,
    chronic_condition,
    today_in_city,
)
from records.selectors import patients_for_account
from records.services.renewals import supply_ends_at


def chronic_problem_condition(prefix: str = "") -> Q:
    """Which Problem rows count as chronic on the panel: the chronic problems of repeat
    prescriptions (records' `chronic_condition`) that are not resolved."""
    return chronic_condition(prefix) & Q(**{f"{prefix}resolved_at__isnull": True})


def teams_of_clinic(*, clinic: Any) -> QuerySet[FamilyTeam]:
    return (
        FamilyTeam.objects.filter(clinic=clinic)
        .select_related("gp", "nurse")
        .annotate(
            panel_size=Count("signings", filter=Q(signings__status=FamilySigning.Status.ACTIVE))
        )
        .order_by("name", "pk")
    )


def teams_open_for_signing() -> QuerySet[FamilyTeam]:
    return (
        FamilyTeam.objects.filter(is_active=True, clinic__is_active=True, gp__is_active=True)
        .select_related("clinic", "gp", "nurse")
        .order_by("clinic__name", "name", "pk")
    )


def teams_of_member(*, user: Any) -> QuerySet[FamilyTeam]:
    """The teams this account works in (as the GP or the nurse)."""
    if not user.is_authenticated:
        return FamilyTeam.objects.none()
    return (
        FamilyTeam.objects.filter(Q(gp__user=user) | Q(nurse=user))
        .select_related("clinic", "gp")
        .order_by("name", "pk")
    )


def team_of_member_or_404(*, user: Any, public_id: Any) -> FamilyTeam:
    """Another team's page is a 404: it does not exist for this account."""
    return get_object_or_404(teams_of_member(user=user), public_id=public_id)


def signing_of_team_or_404(*, team: FamilyTeam, public_id: Any) -> FamilySigning:
    on = today_in_city()
    return get_object_or_404(
        FamilySigning.objects.select_related("patient", "team__clinic", "team__gp"),
        team=team,
        public_id=public_id,
        status=FamilySigning.Status.ACTIVE,
        starts_on__lte=on,
        ends_on__gte=on,
    )


def signings_of_account(*, account: Any) -> QuerySet[FamilySigning]:
    """The live signings of the people this account acts for."""
    on = today_in_city()
    return FamilySigning.objects.filter(
        patient__in=patients_for_account(account=account),
        status=FamilySigning.Status.ACTIVE,
        ends_on__gte=on,
    ).select_related("patient", "team__clinic", "team__gp", "team__nurse")


def _shares_record(patient_ref: str) -> Exists:
    """The person (an outer reference) shares their record across hospitals."""
    return Exists(
        Consent.objects.filter(
            patient=OuterRef(patient_ref),
            kind=ConsentKind.RECORD_SHARING,
            revoked_at__isnull=True,
        )
    )


def panel(*, team: FamilyTeam, on: dt.date | None = None) -> list[FamilySigning]:
    """The team's live signings with what the panel shows: the person, their chronic
    problems, the last visit, the last signed prescription and the overdue follow-ups. A
    fixed number of queries whatever the panel's size. Without the person's sharing consent
    only what the team's own clinic wrote is shown."""
    on = on or today_in_city()
    last_visit = (
        Encounter.objects.filter(
            Q(hospital_id=team.clinic_id) | Q(_shares_record("patient")),
            patient=OuterRef("patient"),
        )
        .order_by()
        .values("patient")
        .annotate(at=Max("started_at"))
        .values("at")
    )
    last_prescription = (
        Prescription.objects.filter(
            Q(encounter__hospital_id=team.clinic_id) | Q(_shares_record("encounter__patient")),
            encounter__patient=OuterRef("patient"),
            signed_at__isnull=False,
        )
        .order_by()
        .values("encounter__patient")
        .annotate(at=Max("signed_at"))
        .values("at")
    )
    chronic = Problem.objects.filter(
        chronic_problem_condition(), Q(hospital_id=team.clinic_id) | Q(_shares_record("patient"))
    ).order_by("recorded_at", "pk")
    overdue = FollowUpTask.objects.filter(done_at__isnull=True, due_on__lt=on).select_related(
        "plan"
    )
    rows = list(
        FamilySigning.objects.filter(
            team=team, status=FamilySigning.Status.ACTIVE, starts_on__lte=on, ends_on__gte=on
        )
        .select_related("patient")
        .annotate(
            last_visit_at=last_visit[:1],
            last_prescription_at=last_prescription[:1],
        )
        .prefetch_related(
            Prefetch("patient__problems", queryset=chronic, to_attr="chronic_problems"),
            Prefetch("tasks", queryset=overdue, to_attr="overdue_tasks"),
        )
        .order_by("patient__name", "pk")
    )
    _renewals_due(rows, team=team, on=on)
    return rows


# A renewal is due on the panel when the supply of the person's last chronic-care prescription
# ends within this many days (or has ended): time to ask for it, or to see them.
RENEWAL_DUE_DAYS = 7


def _renewals_due(rows: list[FamilySigning], *, team: FamilyTeam, on: dt.date) -> None:
    """Sets `supply_ends_on` and `renewal_due` on each row from the person's last signed
    prescription of chronic-care drugs (repeat prescriptions' rule: signed + longest days),
    read under the same sharing scope as the rest of the panel. Two queries for the panel."""
    if not rows:
        return
    prescriptions = (
        Prescription.objects.filter(
            Q(encounter__hospital_id=team.clinic_id) | Q(_shares_record("encounter__patient")),
            encounter__patient_id__in=[row.patient_id for row in rows],
            signed_at__isnull=False,
            items__drug__is_chronic_care=True,
        )
        .distinct()
        .select_related("encounter")
        .prefetch_related("items")
        .order_by("signed_at", "pk")
    )
    latest = {prescription.encounter.patient_id: prescription for prescription in prescriptions}
    due_by = on + dt.timedelta(days=RENEWAL_DUE_DAYS)
    for row in rows:
        ends = supply_ends_at(latest[row.patient_id]) if row.patient_id in latest else None
        row.supply_ends_on = timezone.localtime(ends).date() if ends else None
        row.renewal_due = row.supply_ends_on is not None and row.supply_ends_on <= due_by


def tasks_of_signing(*, signing: FamilySigning) -> QuerySet[FollowUpTask]:
    return signing.tasks.select_related("plan", "encounter").order_by("due_on", "pk")


def team_periods_bookable(*, team: FamilyTeam, limit: int = 12) -> list:
    """The GP's next in-person periods at the team's clinic with a public place left."""
    from django.db.models import F
    from django.utils import timezone

    from appointments.models import Mode, Slot

    now = timezone.now()
    return list(
        Slot.objects.filter(
            doctor=team.gp,
            site=team.clinic,
            mode=Mode.IN_PERSON,
            start__gt=now,
            release_at__lte=now,
            closed_at__isnull=True,
            booked__lt=F("capacity"),
        ).order_by("start", "pk")[:limit]
    )
