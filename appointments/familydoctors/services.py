"""The verbs of family doctors (issue 20): teams, signings, follow-up plans and tasks, the
reminders of due tasks, and a team doctor's booking for a person of the panel.

Each verb is one transaction with its AuditEvent; messages to the family are outbox rows of
the same transaction (`notify`, snapshot params). The team's right to read the record is a
CareRelationship per member whose source is the signing (records/access.py): it ends at the
end of `ends_on` in the clinic's zone, or at once when the signing is cancelled.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from appointments.familydoctors import errors
from appointments.familydoctors.models import (
    SIGNING_DAYS,
    SIGNING_TEXT_VERSION,
    FamilySigning,
    FamilyTeam,
    FollowUpPlan,
    FollowUpTask,
)
from appointments.models import Appointment, Slot
from appointments.services import appointment_book
from audit.services import audit_record
from hospitals.models import Doctor, Hospital, StaffMembership
from notifications.models import OutboxMessage
from notifications.services import notify
from records.models import (
    CHILD_CONSENT_AGE,
    CareRelationship,
    Encounter,
    Patient,
    PatientLink,
    Problem,
    Relationship,
    age_on,
    today_in_city,
)
from records.services import care_relationship_end, care_relationship_grant, consent_behalf_for

CHANNELS = (OutboxMessage.Channel.SMS, OutboxMessage.Channel.INAPP)
# The family is reminded of a follow-up this many days before it is due.
REMIND_DAYS_AHEAD = 3
REMIND_BATCH = 200
KIND_SIGNED = "familydoctor.signed"
KIND_DUE = "familydoctor.due"


# --- Teams (the clinic's hospital admin) ---------------------------------------------------


def team_save(
    *,
    clinic: Hospital,
    by: Any,
    name: str,
    name_en: str = "",
    gp: Doctor,
    nurse: Any | None = None,
    is_active: bool = True,
    team: FamilyTeam | None = None,
) -> FamilyTeam:
    """Create a team (or change `team`): the GP a doctor of the clinic, the nurse a staff
    account of the clinic with the nurse role. A changed member takes over the live signings'
    access at once; the one who left loses it."""
    if clinic.kind != Hospital.Kind.CLINIC:
        raise errors.NotAClinic()
    if gp.hospital_id != clinic.pk or not gp.is_active:
        raise errors.NotClinicStaff()
    if (
        nurse is not None
        and not StaffMembership.objects.filter(
            user=nurse, hospital=clinic, role=StaffMembership.Role.NURSE
        ).exists()
    ):
        raise errors.NotClinicStaff()
    with transaction.atomic():
        if team is None:
            team = FamilyTeam(clinic=clinic)
            action, before = "family_team.create", None
        else:
            team = FamilyTeam.objects.select_for_update().get(pk=team.pk, clinic=clinic)
            action, before = "family_team.update", team.member_user_ids()
        team.name, team.name_en, team.gp, team.nurse = name.strip(), name_en.strip(), gp, nurse
        team.is_active = is_active
        team.save()
        if before is not None and before != team.member_user_ids():
            for signing in team.signings.filter(status=FamilySigning.Status.ACTIVE):
                care_relationship_end(source=signing, by=by)
                _grant_team(signing)
        audit_record(
            actor=by,
            action=action,
            target=team,
            data={"gp": gp.pk, "nurse": nurse.pk if nurse else None, "active": is_active},
        )
    return team


# --- Signings (the family) -----------------------------------------------------------------


def signing_end_at(signing: FamilySigning) -> dt.datetime:
    """The instant the signing's access ends: midnight after `ends_on`, the clinic's time."""
    zone = zoneinfo.ZoneInfo(signing.team.clinic.timezone)
    day = signing.ends_on + dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=zone)


def _grant_team(signing: FamilySigning) -> None:
    until = signing_end_at(signing)
    if until <= timezone.now():
        return
    for user in get_user_model().objects.filter(pk__in=signing.team.member_user_ids()):
        care_relationship_grant(
            patient=signing.patient,
            user=user,
            reason=CareRelationship.Reason.FAMILY,
            until=until,
            source=signing,
        )


def _signer_link(*, patient: Patient, account: Any) -> PatientLink:
    link = (
        PatientLink.objects.live()
        .filter(patient=patient, account=account, can_book=True)
        .order_by("pk")
        .first()
    )
    if link is None:
        raise errors.NotGuardian()
    # A child under 14 is signed by a parent or guardian (the link of a child), as consents are.
    if age_on(patient.birth_date, today_in_city()) < CHILD_CONSENT_AGE and (
        link.relationship != Relationship.CHILD
    ):
        raise errors.NotGuardian()
    return link


def signing_create(*, patient: Patient, team: FamilyTeam, by: Any, consent: bool) -> FamilySigning:
    """Sign `patient` with `team` for a year from today, with the signer's consent. One live
    signing per person: an earlier one past its end date is ended here; a live one refuses."""
    if not consent:
        raise errors.ConsentNeeded()
    link = _signer_link(patient=patient, account=by)
    today = today_in_city()
    with transaction.atomic():
        Patient.objects.select_for_update().get(pk=patient.pk)  # one signing at a time
        team = FamilyTeam.objects.select_related("clinic", "gp").get(pk=team.pk)
        if not team.is_active or not team.clinic.is_active:
            raise errors.TeamClosed()
        current = FamilySigning.objects.filter(
            patient=patient, status=FamilySigning.Status.ACTIVE
        ).first()
        if current is not None:
            if current.ends_on >= today:
                raise errors.AlreadySigned()
            current.status = FamilySigning.Status.ENDED
            current.save(update_fields=["status"])
        signing = FamilySigning.objects.create(
            patient=patient,
            team=team,
            starts_on=today,
            ends_on=today + dt.timedelta(days=SIGNING_DAYS - 1),
            signed_by=by,
            on_behalf=consent_behalf_for(
                relationship=link.relationship, birth_date=patient.birth_date
            ),
            consent_text_version=SIGNING_TEXT_VERSION,
        )
        _grant_team(signing)
        audit_record(
            actor=by,
            action="family_signing.sign",
            target=signing,
            on_behalf_of=patient,
            data={
                "team": team.pk,
                "until": signing.ends_on.isoformat(),
                "on_behalf": signing.on_behalf,
                "version": SIGNING_TEXT_VERSION,
            },
        )
        _tell_family(signing, kind=KIND_SIGNED, subject=signing, params=_signing_params(signing))
    return signing


def signing_cancel(*, signing: FamilySigning, by: Any) -> FamilySigning:
    """The family ends the signing before its year is over: the team's access ends now."""
    with transaction.atomic():
        Patient.objects.select_for_update().get(pk=signing.patient_id)
        signing = FamilySigning.objects.select_related("team__clinic", "patient").get(pk=signing.pk)
        if signing.status != FamilySigning.Status.ACTIVE:
            raise errors.SigningNotLive()
        signing.status = FamilySigning.Status.CANCELLED
        signing.cancelled_at = timezone.now()
        signing.cancelled_by = by
        signing.save(update_fields=["status", "cancelled_at", "cancelled_by"])
        care_relationship_end(source=signing, by=by)
        audit_record(
            actor=by,
            action="family_signing.cancel",
            target=signing,
            on_behalf_of=signing.patient,
            data={"team": signing.team_id},
        )
    return signing


# --- Follow-ups (the team) -----------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _check_member(signing: FamilySigning, user: Any) -> None:
    if user.pk not in signing.team.member_user_ids():
        raise errors.NotTeamDoctor()
    if not signing.is_live(today_in_city()):
        raise errors.SigningNotLive()


def followup_plan_set(
    *,
    signing: FamilySigning,
    by: Any,
    interval_months: int,
    label: str,
    problem: Problem | None = None,
) -> FollowUpPlan:
    """A follow-up every `interval_months` for the rest of the signed year: one task per due
    date, the first one interval from today."""
    _check_member(signing, by)
    if not 1 <= int(interval_months) <= 12:
        raise errors.IntervalInvalid()
    if problem is not None and problem.patient_id != signing.patient_id:
        raise errors.SigningNotLive()
    today = today_in_city()
    with transaction.atomic():
        plan = FollowUpPlan.objects.create(
            signing=signing,
            problem=problem,
            label=(label or (problem.description if problem else "")).strip()[:120],
            interval_months=int(interval_months),
            created_by=by,
        )
        due, n, tasks = add_months(today, plan.interval_months), 1, []
        while due <= signing.ends_on:
            tasks.append(FollowUpTask(plan=plan, signing=signing, due_on=due))
            n += 1
            due = add_months(today, plan.interval_months * n)
        FollowUpTask.objects.bulk_create(tasks)
        audit_record(
            actor=by,
            action="followup_plan.create",
            target=plan,
            on_behalf_of=signing.patient,
            data={"every_months": plan.interval_months, "tasks": len(tasks)},
        )
    return plan


def followup_task_done(*, task: FollowUpTask, by: Any) -> FollowUpTask:
    """The team marks a follow-up done, linked to the person's latest visit at the clinic
    since the previous due date, when there is one."""
    signing = task.signing
    _check_member(signing, by)
    with transaction.atomic():
        task = FollowUpTask.objects.select_for_update().get(pk=task.pk)
        if task.done_at is not None:
            return task
        since = add_months(task.due_on, -task.plan.interval_months)
        task.encounter = (
            Encounter.objects.filter(
                patient_id=signing.patient_id,
                hospital_id=signing.team.clinic_id,
                started_at__date__gte=since,
            )
            .order_by("-started_at")
            .first()
        )
        task.done_at = timezone.now()
        task.done_by = by
        task.save(update_fields=["encounter", "done_at", "done_by"])
        audit_record(
            actor=by,
            action="followup_task.done",
            target=task,
            on_behalf_of=signing.patient,
            data={"due": task.due_on.isoformat(), "encounter": task.encounter_id},
        )
    return task


def followup_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Tell the family of each follow-up due within REMIND_DAYS_AHEAD days, once: the task is
    claimed by setting `reminded_at` under a skip-locked row lock in the transaction that
    writes the messages, so two sweeps never both send it. Returns how many were claimed."""
    now = now or timezone.now()
    horizon = today_in_city() + dt.timedelta(days=REMIND_DAYS_AHEAD)
    sent = 0
    while True:
        with transaction.atomic():
            tasks = list(
                FollowUpTask.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    reminded_at__isnull=True,
                    done_at__isnull=True,
                    due_on__lte=horizon,
                    signing__status=FamilySigning.Status.ACTIVE,
                )
                .select_related("plan", "signing__patient", "signing__team__clinic")
                .order_by("due_on", "pk")[:REMIND_BATCH]
            )
            if not tasks:
                return sent
            FollowUpTask.objects.filter(pk__in=[t.pk for t in tasks]).update(reminded_at=now)
            for task in tasks:
                params = _signing_params(task.signing)
                params.update(due_on=task.due_on.isoformat(), what=task.plan.label)
                _tell_family(task.signing, kind=KIND_DUE, subject=task, params=params)
                audit_record(
                    actor=None,
                    action="followup_task.remind",
                    target=task,
                    on_behalf_of=task.signing.patient,
                    data={"due": task.due_on.isoformat()},
                )
            sent += len(tasks)


# --- Booking for the panel (the team's doctor) ---------------------------------------------


def panel_book(
    *, signing: FamilySigning, slot: Slot, by: Any, idempotency_key: str | None = None
) -> Appointment:
    """The team's GP books an in-person period at the team's clinic for a person of the panel.
    The booking is the ordinary `appointment_book`, counted against the person's managing
    account's caps (never the doctor's); its refusals are the booking's own."""
    team = signing.team
    if team.gp.user_id != by.pk or slot.site_id != team.clinic_id:
        raise errors.NotTeamDoctor()
    if not signing.is_live(today_in_city()):
        raise errors.SigningNotLive()
    with transaction.atomic():
        appointment = appointment_book(
            patient=signing.patient,
            slot=slot,
            booked_by=by,
            idempotency_key=idempotency_key,
            by_care_team=True,
        )
        audit_record(
            actor=by,
            action="family_signing.book",
            target=signing,
            on_behalf_of=signing.patient,
            data={"appointment": appointment.code, "slot": slot.pk},
        )
    return appointment


# --- Messages ------------------------------------------------------------------------------


def _signing_params(signing: FamilySigning) -> dict:
    """What every message about the signing may say, as JSON, both languages."""
    team, clinic = signing.team, signing.team.clinic
    return {
        "tz": clinic.timezone,
        "patient": signing.patient.name,
        "team": {"zh-hans": team.name, "en": team.name_en or team.name},
        "clinic": {"zh-hans": clinic.name, "en": clinic.name_en or clinic.name},
        "ends_on": signing.ends_on.isoformat(),
        "path": reverse("family_doctor"),
        "link": reverse("family_doctor"),
    }


def _tell_family(signing: FamilySigning, *, kind: str, subject: Any, params: dict) -> None:
    language = translation.get_language() or settings.LANGUAGE_CODE
    for link in (
        PatientLink.objects.live()
        .filter(patient_id=signing.patient_id, can_book=True)
        .select_related("account")
    ):
        notify(
            account=link.account,
            kind=kind,
            subject=subject,
            params=params,
            channels=CHANNELS,
            language=language,
        )
