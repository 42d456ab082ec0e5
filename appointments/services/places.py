"""A slot's places: the one conditional UPDATE that takes a place of a pool or gives it back,
and the slot row locks every booking path takes first (the lock order in appointments.services).

Counters are only ever changed by one conditional UPDATE (`booked = booked + 1 WHERE id = %s AND
booked < capacity ...`), never read-then-written."""

from __future__ import annotations

import datetime as dt
from functools import cache

from django.db import connection, transaction

from appointments import fixed_sql, policies
from appointments.errors import ReferralPlacesFull, SlotFull
from appointments.models import Pool, Slot
from appointments.selectors.slots import (
    SLOT_RELATIONS_FROM,
    slot_relations_columns,
    slot_with_relations,
)
from appointments.selectors.sold_out import (
    slot_sold_out_refusal,
    sold_out_forget,
    sold_out_remember,
)
from appointments.services.next_free import (
    next_free_period_filled_later,
    next_free_periods_refresh_later,
)

# One statement takes a place of one pool, only if the slot is open for it at `now`.
_TAKE = {
    # A public place, once public places are released.
    "public": (
        "booked = booked + 1",
        "booked < capacity AND release_at <= %(now)s",
    ),
    # A referral place, once referral places are released.
    "referral": (
        "referral_booked = referral_booked + 1",
        "referral_booked < referral_capacity AND referral_release_at <= %(now)s",
    ),
    # An unused referral place that has joined the public pool.
    "merged": (
        "referral_booked = referral_booked + 1",
        "referral_booked < referral_capacity AND referral_merge_at <= %(now)s "
        "AND release_at <= %(now)s",
    ),
}
_GIVE_BACK = {
    Pool.PUBLIC: ("booked = booked - 1", "booked > 0"),
    Pool.REFERRAL: ("referral_booked = referral_booked - 1", "referral_booked > 0"),
}


def _update_counters(
    slot: Slot, assignment: str, condition: str, now: dt.datetime, *, taking: bool
) -> bool:
    table = connection.ops.quote_name(Slot._meta.db_table)
    # Only this module's fixed fragments are joined in; values go as parameters.
    sql = " ".join(
        [
            "UPDATE",
            table,
            "SET",
            assignment,
            "WHERE id = %(id)s AND",
            condition,
            "RETURNING booked, referral_booked, capacity, referral_capacity",
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"id": slot.pk, "now": now})
        row = cursor.fetchone()
    if row is None:
        return False
    slot.booked, slot.referral_booked, capacity, referral_capacity = row
    # A doctor's next free period depends on each slot only through "has a public place" and
    # "has a referral place" (next_free.py): refresh it when this change flipped one, i.e. the
    # pool just filled (a take) or just stopped being full (a give-back). In a rush most
    # bookings leave places behind and skip the refresh's transaction.
    counted, of = (
        (slot.booked, capacity)
        if assignment.startswith("booked")
        else (slot.referral_booked, referral_capacity)
    )
    if taking and counted == of:
        next_free_period_filled_later(slot=slot)
    elif not taking and counted == of - 1:
        next_free_periods_refresh_later(doctor_ids=[slot.doctor_id])
    return True


def place_take(slot: Slot, *, now: dt.datetime, referral: bool) -> str:
    """Take one place and say from which pool; the slot's counters are updated in place."""
    base = " AND closed_at IS NULL AND start > %(now)s"
    order = ("referral", "public") if referral else ("public", "merged")
    for way in order:
        assignment, condition = _TAKE[way]
        if _update_counters(slot, assignment, condition + base, now, taking=True):
            if isinstance(slot_sold_out_refusal(slot=slot, now=now), SlotFull):
                # The rush's early answer knows the slot is full from this commit on, rather
                # than from the first request that reads it full after.
                transaction.on_commit(lambda: sold_out_remember(slot=slot))
            return Pool.PUBLIC if way == "public" else Pool.REFERRAL
    slot.refresh_from_db(fields=["booked", "referral_booked", "closed_at"])
    policies.check_slot_open(slot=slot, now=now, referral=referral)
    if referral and now < slot.release_at:
        raise ReferralPlacesFull()
    raise SlotFull()


def place_give_back(slot: Slot, pool: str, *, now: dt.datetime) -> None:
    assignment, condition = _GIVE_BACK[pool]
    _update_counters(slot, assignment, condition, now, taking=False)
    # The rush's early answer must not go on refusing a place that is free again.
    slot_id = slot.pk
    transaction.on_commit(lambda: sold_out_forget(slot_id=slot_id))


def slot_fresh(slot: Slot) -> Slot:
    return Slot.objects.select_related("site", "doctor__user", "department").get(pk=slot.pk)


def slot_lock(slot: Slot) -> Slot:
    """The slot's row, locked first (the lock order) and read fresh. FOR NO KEY
    UPDATE, what the counter UPDATE takes anyway, so rows that only point at the slot (a new
    hold, a waiting-list entry) are not held up."""
    if not fixed_sql.postgresql():
        return (
            Slot.objects.select_for_update(no_key=True, of=("self",))
            .select_related("site", "doctor__user", "department")
            .get(pk=slot.pk)
        )
    rows = fixed_sql.run(_slot_lock_sql(), {"pk": slot.pk})
    if not rows:
        raise Slot.DoesNotExist
    return slot_with_relations(rows[0], user=True)


@cache
def _slot_lock_sql() -> str:
    # Every booking without a hold takes this lock first: fixed text (appointments.fixed_sql).
    return f"""
SELECT {slot_relations_columns(user=True)}
{SLOT_RELATIONS_FROM}
WHERE s.id = %(pk)s
FOR NO KEY UPDATE OF s"""


def slots_lock(slot_ids) -> None:
    """Lock several slots' rows in primary-key order, before anything else."""
    list(
        Slot.objects.select_for_update(no_key=True)
        .filter(pk__in=set(slot_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
