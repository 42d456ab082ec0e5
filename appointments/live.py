"""Live places-left figures: every change of a slot's counters is pushed to the pages showing
that doctor. The consumer (appointments/consumers.py) joins `doctor_group(doctor_id)`.

Under the embedded default the in-memory channel layer cannot carry a push from the worker to
the web process, so pages also poll (DESIGN.md §5).
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

MESSAGE_TYPE = "slot.places"


def doctor_group(doctor_id: int) -> str:
    return f"slots.doctor.{doctor_id}"


def slot_places_message(slot) -> dict:
    now = timezone.now()
    return {
        "type": MESSAGE_TYPE,
        "slot": slot.pk,
        "public_left": slot.public_places_left(now=now),
        "referral_left": slot.referral_places_left(now=now),
        "bookable": slot.is_bookable(now=now),
    }


def slot_places_changed(*, slot) -> None:
    """After the current transaction commits, push the slot's new figures to its doctor's group.

    Call with the slot's counters as committed (refresh it first). A push that fails is logged
    and dropped: the pages poll as well, so a lost push costs freshness, never correctness.
    """
    message = slot_places_message(slot)
    group = doctor_group(slot.doctor_id)

    def push() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:
            logger.warning("could not push places of slot %s", slot.pk, exc_info=True)

    transaction.on_commit(push)
