"""Live places-left figures: every change of a slot's counters is pushed to the pages showing
that doctor. The consumer (appointments/consumers.py) joins `doctor_group(doctor_id)`.

Under the embedded default the in-memory channel layer cannot carry a push from the worker to
the web process, so pages also poll (DESIGN.md §5).
"""

from __future__ import annotations

from django.utils import timezone

from notifications.live import group_send_on_commit

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
    group_send_on_commit(
        group=doctor_group(slot.doctor_id),
        message=slot_places_message(slot),
        what=f"push places of slot {slot.pk}",
    )


# --- The waiting-room display of a site (issue 8) -------------------------------------------


def desk_display_group(site_id: int) -> str:
    return f"desk.display.{site_id}"


def desk_display_changed(*, site_id: int, message: dict) -> None:
    """After the current transaction commits, tell the site's waiting-room displays (and desks)
    that its queues changed: `queue.called` (with the number and masked name) or
    `queue.changed`. Like the places push, a lost push costs freshness only: displays poll."""
    group_send_on_commit(
        group=desk_display_group(site_id),
        message=message,
        what=f"push the queue of site {site_id}",
    )
