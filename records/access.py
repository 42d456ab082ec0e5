"""Who may read a person's record, and how much of it (DESIGN.md §3).

Every view, socket and API that shows clinical content asks here first:

    access = record_access(user=request.user, patient=patient)
    if not access.allowed:
        raise Http404
    encounters = access.filter(patient.encounters.all())   # hospital scope applied
    record_read_audit(access=access, what="record")

- An account with a live PatientLink that may read the record reads all of it.
- A doctor reads while a CareRelationship is live (booking, open encounter, incoming
  referral, break-glass, a family-doctor signing's year — the team's GP and nurse), or while a
  renewal request of the person waits in their queue. Without the patient's live sharing consent
  the doctor is shown only what their own hospital(s) wrote (a team's nurse: their clinic):
  `hospital_ids` is that set, and `filter()` applies it.
  Break-glass shows everything: it exists for emergencies, and the patient is told.
- Nobody else, whatever their role: hospital admins and front desk see appointments, never
  clinical content. A platform superuser is no exception (the Django admin does not register
  clinical models).

Every read by staff is an AuditEvent (`record_read_audit`); the patient's "Who has seen my
record" page lists them. Break-glass (`break_glass_open`) is a CareRelationship of reason
`break_glass` with the typed reason, audited and notified to the patient's accounts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from hospitals.when import format_when
from records.models import CareRelationship, ConsentKind, Patient
from records.selectors import account_acts_for, patient_links, renewal_waits_for

BREAK_GLASS_HOURS = 24
BREAK_GLASS_MIN_REASON = 10

SOURCE_LINK = "link"  # the reader acts for the patient through a PatientLink


@dataclass(frozen=True)
class RecordAccess:
    """The answer for one (user, patient): `reason` is empty when the user may not read."""

    patient: Patient
    user: Any
    reason: str = ""  # SOURCE_LINK or a CareRelationship.Reason value
    # None: every hospital's rows; otherwise only rows written by these hospitals.
    hospital_ids: frozenset[int] | None = None
    grant: CareRelationship | None = None

    @property
    def allowed(self) -> bool:
        return bool(self.reason)

    @property
    def is_staff_read(self) -> bool:
        return self.allowed and self.reason != SOURCE_LINK

    def filter(self, queryset: QuerySet, hospital_field: str = "hospital") -> QuerySet:
        """Narrow a queryset of this patient's rows to what this reader may see.

        `hospital_field` is the lookup to the writing hospital (`"encounter__hospital"` for
        notes and prescriptions). Rows with no hospital (the patient's own uploads) are shown
        to every reader of the record.
        """
        if not self.allowed:
            return queryset.none()
        if self.hospital_ids is None:
            return queryset
        return queryset.filter(
            Q(**{f"{hospital_field}__in": self.hospital_ids})
            | Q(**{f"{hospital_field}__isnull": True})
        )

    def shows_hospital(self, hospital_id: int | None) -> bool:
        return self.allowed and (
            self.hospital_ids is None or hospital_id is None or hospital_id in self.hospital_ids
        )


def doctor_hospital_ids(user: Any) -> frozenset[int]:
    """The hospitals where this account works as a doctor."""
    from hospitals.models import Doctor, StaffMembership

    ids = set(
        StaffMembership.objects.filter(user=user, role=StaffMembership.Role.DOCTOR).values_list(
            "hospital_id", flat=True
        )
    )
    ids.update(Doctor.objects.filter(user=user).values_list("hospital_id", flat=True))
    return frozenset(ids)


def nurse_hospital_ids(user: Any) -> frozenset[int]:
    """The clinics where this account works as a nurse (a family-doctor team's nurse has no
    Doctor row; without the sharing consent it reads what its own clinic wrote)."""
    from hospitals.models import StaffMembership

    return frozenset(
        StaffMembership.objects.filter(user=user, role=StaffMembership.Role.NURSE).values_list(
            "hospital_id", flat=True
        )
    )


def _has_sharing_consent(patient: Patient) -> bool:
    return patient.consents.filter(
        kind=ConsentKind.RECORD_SHARING, revoked_at__isnull=True
    ).exists()


def record_access(*, user: Any, patient: Patient, at: dt.datetime | None = None) -> RecordAccess:
    if user is None or not user.is_authenticated or not user.is_active:
        return RecordAccess(patient=patient, user=user)
    if account_acts_for(account=user, patient=patient, can_read=True):
        return RecordAccess(patient=patient, user=user, reason=SOURCE_LINK)
    at = at or timezone.now()
    grant = (
        CareRelationship.objects.filter(
            patient=patient, user=user, revoked_at__isnull=True, starts_at__lte=at, ends_at__gt=at
        )
        .order_by("-ends_at")
        .first()
    )
    if grant is None:
        # A renewal request waiting in this doctor's queue lets them read the record while
        # it waits (issue 20); there is no stored grant, so the answer ends with the wait.
        if renewal_waits_for(user=user, patient=patient):
            return RecordAccess(
                patient=patient,
                user=user,
                reason=CareRelationship.Reason.RENEWAL,
                hospital_ids=None if _has_sharing_consent(patient) else doctor_hospital_ids(user),
            )
        return RecordAccess(patient=patient, user=user)
    # Break-glass is for emergencies: it shows every hospital's rows (and is told to the
    # patient); every other grant honours the sharing consent.
    if grant.reason == CareRelationship.Reason.BREAK_GLASS or _has_sharing_consent(patient):
        hospital_ids = None
    else:
        hospital_ids = doctor_hospital_ids(user)
        if grant.reason == CareRelationship.Reason.FAMILY:
            hospital_ids = hospital_ids | nurse_hospital_ids(user)
    return RecordAccess(
        patient=patient, user=user, reason=grant.reason, hospital_ids=hospital_ids, grant=grant
    )


def record_access_or_404(*, user: Any, patient_public_id: Any) -> RecordAccess:
    patient = Patient.objects.filter(public_id=patient_public_id).first()
    if patient is None:
        raise Http404
    access = record_access(user=user, patient=patient)
    if not access.allowed:
        raise Http404
    return access


def record_read_audit(
    *,
    access: RecordAccess,
    what: str,
    target: Any | None = None,
) -> None:
    """Write the AuditEvent of one staff read (`what`: record, note, attachment, fhir, …).

    Reads by the patient's own accounts are not staff reads and write nothing.
    """
    if not access.is_staff_read:
        return
    audit_record(
        actor=access.user,
        action="record.read",
        target=target if target is not None else access.patient,
        on_behalf_of=access.patient,
        data={
            "what": what,
            "reason": access.reason,
            "scope": "all" if access.hospital_ids is None else sorted(access.hospital_ids),
        },
    )


def record_denied_audit(*, user: Any, patient: Patient, what: str) -> None:
    """Write the AuditEvent of a refused read by a signed-in account."""
    audit_record(
        actor=user,
        action="record.read",
        target=patient,
        on_behalf_of=patient,
        result="denied",
        data={"what": what},
    )


def break_glass_open(*, user: Any, patient: Patient, reason: str) -> CareRelationship:
    """Emergency access for a doctor without a care relationship: a typed reason, 24 hours,
    audited, and the patient's accounts are told at once."""
    from notifications.services import notify
    from records.services.care import care_relationship_grant

    reason = (reason or "").strip()
    if len(reason) < BREAK_GLASS_MIN_REASON:
        raise ValidationError(
            _("Type why you need emergency access (at least %(n)d characters)."),
            params={"n": BREAK_GLASS_MIN_REASON},
            code="reason",
        )
    if not doctor_hospital_ids(user):
        raise ValidationError(_("Only doctors may use emergency access."), code="not_doctor")
    with transaction.atomic():
        grant = care_relationship_grant(
            patient=patient,
            user=user,
            reason=CareRelationship.Reason.BREAK_GLASS,
            until=timezone.now() + dt.timedelta(hours=BREAK_GLASS_HOURS),
            source=reason,
        )
        audit_record(
            actor=user,
            action="record.break_glass",
            target=patient,
            on_behalf_of=patient,
            data={"reason": reason[:200], "until": grant.ends_at.isoformat()},
        )
        title = _("Emergency access to %(name)s's record") % {"name": patient.name}
        body = _(
            "A doctor opened %(name)s's record without an appointment or referral, giving this "
            "reason: %(reason)s. The access ends at %(until)s. You can see every reader on the "
            'record\'s page "Who has seen my record".'
        ) % {
            "name": patient.name,
            "reason": reason,
            "until": format_when(grant.ends_at),
        }
        for link in patient_links(patient=patient, can_read=True):
            # The grant is the subject: each emergency access is told once per account.
            notify(
                account=link.account,
                kind="record.break_glass",
                subject=grant,
                context={"title": title, "body": body, "link": "/me/record/"},
            )
    return grant
