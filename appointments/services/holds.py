"""Holds: a place kept for a few minutes while the patient confirms, released when they leave or
when it runs out (a periodic sweep)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments import policies
from appointments.live import slot_places_changed
from appointments.models import Hold, Slot
from appointments.services.booking import hold_end, waitlist_promote_on_commit
from appointments.services.hold_limits import hold_rate_check
from appointments.services.places import (
    place_give_back,
    place_take,
    slot_fresh,
    slot_lock,
    slots_lock,
)
from audit.services import audit_record
from records.models import Referral


def _hold_minutes() -> int:
    return int(getattr(settings, "BOOKING_HOLD_MINUTES", 5))


def hold_create(*, slot: Slot, account: Any, referral: Referral | None = None) -> Hold:
    """Keep a place for `BOOKING_HOLD_MINUTES` while the account confirms. The account's
    previous live hold is released first (one live hold per account); reopening the page of
    the same slot renews the same hold. At most `HOLD_RATE_PER_MINUTE` requests a minute per
    account and per address (`TooManyHolds`)."""
    hold_rate_check(account=account)
    try:
        return _hold_create(slot=slot, account=account, referral=referral)
    except (IntegrityError, _HoldMoved):
        # The same account opened the page twice at once and the other request's hold won
        # the one-live-hold-per-account index (or replaced the hold this one read): this
        # request's place went back with its transaction; take the usual path again, which
        # now sees that hold.
        return _hold_create(slot=slot, account=account, referral=referral)


class _HoldMoved(Exception):
    """The account's live hold changed between reading it and locking its slot."""


def _hold_create(*, slot: Slot, account: Any, referral: Referral | None) -> Hold:
    """Locks the previous hold's slot and the new one in primary-key order, then the previous
    hold, then the referral (the lock order)."""
    now = timezone.now()
    with transaction.atomic():
        seen = Hold.objects.filter(account=account, state="live").first()
        locked = None
        if seen is None:
            # The usual first visit: lock and read the slot in one statement. A hold another
            # request of this account makes meanwhile loses to the one-live-hold index, and
            # `hold_create` takes the usual path again.
            locked = slot_lock(slot)
            previous = None
        else:
            slots_lock({slot.pk, seen.slot_id})
            previous = (
                Hold.objects.select_for_update().filter(account=account, state="live").first()
            )
            if (previous.pk if previous else None) != seen.pk:
                raise _HoldMoved()
        if (
            previous is not None
            and previous.slot_id == slot.pk
            and previous.expires_at > now
            and (referral is None or previous.referral_id == referral.pk)
        ):
            previous.expires_at = now + dt.timedelta(minutes=_hold_minutes())
            previous.save(update_fields=["expires_at"])
            return previous
        if previous is not None:
            hold_end(previous, now=now, state=Hold.State.RELEASED)
            audit_record(
                actor=account,
                action="hold.release",
                target=previous,
                data={"slot": previous.slot_id, "why": "replaced"},
            )
        slot = locked or slot_fresh(slot)
        if referral is not None:
            referral = Referral.objects.select_for_update().get(pk=referral.pk)
            policies.check_referral(referral=referral, patient=None, slot=slot, now=now)
        policies.check_slot_open(slot=slot, now=now, referral=referral is not None)
        pool = place_take(slot, now=now, referral=referral is not None)
        hold = Hold.objects.create(
            slot=slot,
            account=account,
            pool=pool,
            referral=referral,
            created_at=now,
            expires_at=now + dt.timedelta(minutes=_hold_minutes()),
        )
        audit_record(
            actor=account,
            action="hold.create",
            target=hold,
            data={"slot": slot.pk, "pool": pool, "expires_at": hold.expires_at.isoformat()},
        )
        slot_places_changed(slot=slot)
    return hold


def hold_release(*, hold: Hold) -> Hold:
    """Give the place back now (the patient left the confirmation page). Locks the slot, then
    the hold."""
    now = timezone.now()
    with transaction.atomic():
        slots_lock([Hold.objects.values_list("slot_id", flat=True).get(pk=hold.pk)])
        hold = Hold.objects.select_for_update().get(pk=hold.pk)
        if hold.state == Hold.State.LIVE:
            hold_end(hold, now=now, state=Hold.State.RELEASED)
            audit_record(
                actor=hold.account,
                action="hold.release",
                target=hold,
                data={"slot": hold.slot_id, "why": "released"},
            )
    return hold


def release_expired_holds(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Give back the places of holds that ran out. Several workers may run it at once: each
    claims rows nobody else holds (`SKIP LOCKED`). The slots are locked first, in primary-key
    order, then the holds (the lock order)."""
    now = now or timezone.now()
    with transaction.atomic():
        due = Hold.objects.filter(state=Hold.State.LIVE, expires_at__lte=now)
        candidates = list(due.order_by("expires_at", "pk").values_list("pk", "slot_id")[:batch])
        slots_lock(slot_id for _pk, slot_id in candidates)
        holds = list(
            due.select_for_update(skip_locked=True)
            .filter(pk__in=[pk for pk, _slot_id in candidates])
            .order_by("expires_at", "pk")
        )
        if not holds:
            return 0
        slots: dict[int, Slot] = {}
        for hold in holds:
            slot = slots.setdefault(hold.slot_id, Slot(pk=hold.slot_id))
            place_give_back(slot, hold.pool, now=now)
            hold.state = Hold.State.RELEASED
            hold.ended_at = now
        Hold.objects.bulk_update(holds, ["state", "ended_at"])
        for slot in Slot.objects.filter(pk__in=list(slots)):
            slot_places_changed(slot=slot)
            waitlist_promote_on_commit(slot.pk)
        audit_record(
            actor=None,
            action="hold.expire",
            data={"holds": len(holds), "slots": sorted(slots)},
        )
    return len(holds)
