"""The refusal a rush is mostly made of, answered from a read: a slot with no place left
(or closed, started, not yet released) is refused from its row as just read, with no lock and
no write, before any booking or hold transaction starts (issue 16).

Only a "no" is answered here. The database stays the authority: a place is taken by the
conditional UPDATE in appointments.services.places, which may still refuse a request this read
let through; a read that says "full" cannot be wrong in the other direction for long, because
counters are only changed by committed transactions and this read sees the last of them."""

from __future__ import annotations

import datetime as dt

from appointments import policies
from appointments.errors import BookingRefused, ReferralPlacesFull, SlotFull
from appointments.models import Slot


def slot_sold_out_refusal(
    *, slot: Slot, now: dt.datetime, referral: bool = False
) -> BookingRefused | None:
    """The refusal a request to take a place of `slot` meets, judged from the counters the
    caller just read without a lock; None when the booking transaction must decide. A live
    hold of the asking account keeps its place: the caller skips this check when there is one.

    Never refuses what `place_take` would grant on the same row: every pool it may take from
    (public, merged referral, referral) counts in `Slot.is_bookable`."""
    try:
        policies.check_slot_open(slot=slot, now=now, referral=referral)
    except BookingRefused as refused:
        return refused
    if slot.is_bookable(now=now, referral=referral):
        return None
    if referral and now < slot.release_at:
        return ReferralPlacesFull()
    return SlotFull()
