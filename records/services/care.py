"""Care relationships: which staff account may read a person's record, why and until when."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from accounts.models import User
from audit.rows import rows_insert
from audit.services import audit_record
from records.models import CareRelationship, Patient


def _source_fields(source: models.Model | str | None) -> dict[str, Any]:
    """How a grant names its source: an object (appointment, encounter, referral) by content
    type and id, or a free text (break-glass's typed reason) as a label only."""
    if isinstance(source, models.Model):
        return {
            "source_type": ContentType.objects.get_for_model(source),
            "source_id": str(source.pk),
            "source_label": str(source)[:200],
        }
    if source:
        return {"source_label": source[:200]}
    return {}


def care_relationship_grant(
    *,
    patient: Patient,
    user: User,
    reason: str,
    until: dt.datetime,
    source: models.Model | str | None = None,
    new_source: bool = False,
) -> CareRelationship:
    """Let a staff account read a person's record until `until`, for `reason`.

    Each source object (an appointment, an encounter, a referral) gets its own grant, so that
    ending that source ends only its grant (`care_relationship_end`); a second grant for the
    same person, account, reason and source object is extended (never shortened) rather than
    duplicated. Called by appointments inside the booking transaction; `new_source` says the
    source was created in the caller's transaction, so no grant of it can exist yet (no look).
    No savepoint of its own: a failure here fails the caller's whole change anyway.
    """
    now = timezone.now()
    if until <= now:
        raise ValueError("a care relationship must end in the future")
    source_fields = _source_fields(source)
    with transaction.atomic(savepoint=False):
        existing = (
            None
            if new_source
            else (
                CareRelationship.objects.select_for_update()
                .filter(
                    patient=patient,
                    user=user,
                    reason=reason,
                    # A grant without a source object (break-glass) is matched among those alone.
                    source_type=source_fields.get("source_type"),
                    source_id=source_fields.get("source_id", ""),
                    revoked_at__isnull=True,
                    starts_at__lte=now,
                    ends_at__gt=now,
                )
                .order_by("-ends_at")
                .first()
            )
        )
        if existing is not None:
            if until > existing.ends_at:
                existing.ends_at = until
                existing.save(update_fields=["ends_at"])
            grant, verb = existing, "care_relationship.extend"
        else:
            (grant,) = rows_insert(
                CareRelationship,
                [
                    CareRelationship(
                        patient=patient,
                        user=user,
                        reason=reason,
                        starts_at=now,
                        ends_at=until,
                        **source_fields,
                    )
                ],
            )
            verb = "care_relationship.grant"
        audit_record(
            actor=None,
            action=verb,
            target=grant,
            on_behalf_of=patient,
            data={"user": user.pk, "reason": reason, "until": grant.ends_at.isoformat()},
        )
    return grant


def care_relationship_end(
    *, source: models.Model, at: dt.datetime | None = None, by: User | None = None
) -> int:
    """End the live grants that `source` (an appointment, a referral, an encounter) gave:
    at once, or with `at` no later than `at` (a grant is never lengthened here). Returns how
    many grants changed.

    Access is any live grant, so the same doctor keeps reading when another reason still
    holds (another appointment, an open encounter, a referral, break-glass): each has its own
    grant. Callers call it inside the transaction that ends the source (cancel, reschedule,
    closure, a referral's cancel, expiry or completion); the grant rows come last in the lock
    order (DESIGN.md §3), in primary-key order.
    """
    now = timezone.now()
    named = _source_fields(source)  # as the grant named it
    changed = 0
    with transaction.atomic():
        grants = list(
            CareRelationship.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(
                source_type=named["source_type"],
                source_id=named["source_id"],
                revoked_at__isnull=True,
                ends_at__gt=now,
            )
            .order_by("pk")
        )
        for grant in grants:
            if at is None or at <= now or at <= grant.starts_at:
                grant.revoked_at = now
                grant.save(update_fields=["revoked_at"])
            elif at < grant.ends_at:
                grant.ends_at = at
                grant.save(update_fields=["ends_at"])
            else:
                continue
            changed += 1
            audit_record(
                actor=by,
                action="care_relationship.end",
                target=grant,
                on_behalf_of=grant.patient,
                data={
                    "user": grant.user_id,
                    "reason": grant.reason,
                    "source": grant.source_label,
                    "until": (grant.revoked_at or grant.ends_at).isoformat(),
                },
            )
    return changed


def care_relationship_revoke(*, grant: CareRelationship, by: User | None = None) -> None:
    with transaction.atomic():
        locked = CareRelationship.objects.select_for_update().get(pk=grant.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
        audit_record(
            actor=by,
            action="care_relationship.revoke",
            target=locked,
            on_behalf_of=locked.patient,
            data={"user": locked.user_id, "reason": locked.reason},
        )
