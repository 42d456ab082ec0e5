"""The waiting list of a full slot: join and leave. Promotion books, so it lives with booking
(appointments/services/booking.py)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from appointments import policies
from appointments.errors import AlreadyWaiting, PlacesLeft
from appointments.models import Slot, WaitlistEntry
from appointments.services.places import slot_fresh
from audit.services import audit_record


def waitlist_join(*, patient: Any, slot: Slot, account: Any) -> WaitlistEntry:
    """Wait for a place in a full slot; every rule that booking checks is checked now too."""
    now = timezone.now()
    with transaction.atomic():
        slot = slot_fresh(slot)
        policies.check_slot_open(slot=slot, now=now)
        if slot.public_places_left(now=now) > 0:
            raise PlacesLeft()
        policies.check_patient_policies(patient=patient, slot=slot, account=account, now=now)
        if WaitlistEntry.objects.filter(slot=slot, patient=patient, state="waiting").exists():
            raise AlreadyWaiting()
        entry = WaitlistEntry.objects.create(
            slot=slot, patient=patient, account=account, created_at=now
        )
        audit_record(
            actor=account,
            action="waitlist.join",
            target=entry,
            on_behalf_of=patient,
            data={"slot": slot.pk},
        )
    return entry


def waitlist_leave(*, entry: WaitlistEntry, by: Any) -> WaitlistEntry:
    with transaction.atomic():
        entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.state == WaitlistEntry.State.WAITING:
            entry.state = WaitlistEntry.State.LEFT
            entry.save(update_fields=["state"])
            audit_record(
                actor=by,
                action="waitlist.leave",
                target=entry,
                on_behalf_of=entry.patient,
                data={"slot": entry.slot_id},
            )
    return entry
