"""Each doctor's next free period per mode (NextFreePeriod), kept by the writes that change it.

Every change of a slot's places goes through appointments.services.places, which calls
`next_free_periods_refresh_later`; closures and rota publishes call it for the doctors they
touched. The refresh runs after the commit in a short transaction of its own that first takes
a per-doctor lock, so it reads what every earlier commit wrote and two refreshes of one doctor
never cross (the booking transactions themselves take no extra lock). A row also stops being
exact when time passes (its period starts, or an earlier one is released); the beat task
`refresh_next_free_periods` recomputes those, and search works out any row past its
`valid_until` from the slots until then.

Each row also carries its doctor's hospital's district (for search in a district), written by
the refresh and moved by `next_free_periods_district_follow` when a hospital's district or a
doctor's hospital changes."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Case, Exists, F, Min, OuterRef, Q, Subquery, When
from django.db.models.functions import Greatest
from django.utils import timezone

from appointments import fixed_sql
from appointments.models import NextFreePeriod, Slot
from appointments.selectors.slots import PUBLIC_MODES, slots_bookable
from hospitals.models import Doctor, Hospital
from notifications.live import serving_loop

logger = logging.getLogger(__name__)

REFRESH_CHUNK = 500
# pg_advisory_xact_lock(key1, key2): key1 names this table's locks, key2 is the doctor id.
_LOCK_SPACE = 0x4E46


def _lock_doctors(doctor_ids: list[int]) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite's IMMEDIATE transactions already run one writer at a time
    with connection.cursor() as cursor:
        for doctor_id in doctor_ids:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_SPACE, doctor_id])


def next_free_periods_compute(
    *, doctor_ids: Iterable[int], now: dt.datetime
) -> list[NextFreePeriod]:
    """The rows of these doctors as of `now`, one per doctor and mode, unsaved."""
    doctor_ids = sorted(set(doctor_ids))
    firsts = {
        (row["doctor_id"], row["mode"]): row["first"]
        for row in slots_bookable(now=now)
        .filter(doctor_id__in=doctor_ids)
        .values("doctor_id", "mode")
        .annotate(first=Min("start"))
        .order_by()
    }
    # When a slot that cannot be booked now becomes bookable without anyone writing: its public
    # places at release, or its unused referral places when they join the public pool.
    becomes_bookable = Case(
        When(booked__lt=F("capacity"), then=F("release_at")),
        default=Greatest("release_at", "referral_merge_at"),
    )
    events = {
        (row["doctor_id"], row["mode"]): row["event"]
        for row in Slot.objects.filter(
            Q(booked__lt=F("capacity")) | Q(referral_booked__lt=F("referral_capacity")),
            doctor_id__in=doctor_ids,
            closed_at__isnull=True,
            start__gt=now,
        )
        .annotate(becomes=becomes_bookable)
        .filter(becomes__gt=now, becomes__lt=F("start"))
        .values("doctor_id", "mode")
        .annotate(event=Min("becomes"))
        .order_by()
    }
    districts = dict(
        Doctor.objects.filter(pk__in=doctor_ids).values_list("pk", "hospital__district")
    )
    rows = []
    for doctor_id in doctor_ids:
        for mode in PUBLIC_MODES:
            first = firsts.get((doctor_id, mode))
            ends = [moment for moment in (first, events.get((doctor_id, mode))) if moment]
            rows.append(
                NextFreePeriod(
                    doctor_id=doctor_id,
                    mode=mode,
                    start=first,
                    computed_at=now,
                    valid_until=min(ends) if ends else None,
                    district=districts.get(doctor_id, ""),
                )
            )
    return rows


def next_free_periods_refresh(*, doctor_ids: Iterable[int], now: dt.datetime | None = None) -> int:
    """Recompute the rows of these doctors from their slots; returns how many were written.

    Each chunk is one transaction that locks its doctors (in id order) before it reads, so a
    refresh never writes a result older than another refresh's."""
    doctor_ids = sorted(set(doctor_ids))
    written = 0
    for index in range(0, len(doctor_ids), REFRESH_CHUNK):
        chunk = doctor_ids[index : index + REFRESH_CHUNK]
        with transaction.atomic():
            _lock_doctors(chunk)
            rows = next_free_periods_compute(doctor_ids=chunk, now=now or timezone.now())
            NextFreePeriod.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["doctor", "mode"],
                update_fields=["start", "computed_at", "valid_until", "district"],
            )
        written += len(rows)
    return written


def next_free_periods_refresh_later(*, doctor_ids: Iterable[int]) -> None:
    """Refresh these doctors' rows once the current transaction commits (at once outside
    one): the one call a write that changes a slot's places, closes or creates slots makes."""
    doctor_ids = sorted(set(doctor_ids))
    if doctor_ids:
        transaction.on_commit(lambda: next_free_periods_refresh(doctor_ids=doctor_ids))


def next_free_period_filled_later(*, slot: Slot) -> None:
    """A take filled one of `slot`'s pools: once the transaction commits, refresh its doctor's
    row, unless the row already names an earlier period of the slot's mode and is still
    exact: a filled later period changes nothing there (in a release rush most pools that
    fill are not the doctor's first free one; the refresh is a transaction of five statements,
    this look is one).

    In a page's request (an ASGI server's loop runs it) the look also ends the row
    (`valid_until` now), so search works the doctor out from the slots, and the refresh runs
    shortly after on the server's executor, for every doctor the process's bookings changed
    meanwhile in one transaction (`REFRESH_SOON_SECONDS`): the computation was a twentieth of
    the web workers' CPU in bench/http_rush.py, repeated per booking. Elsewhere (a worker, a
    command, a test) it runs at once."""
    doctor_id, mode, start = slot.doctor_id, slot.mode, slot.start

    def refresh() -> None:
        now = timezone.now()
        loop = serving_loop()
        if loop is not None and connection.vendor == "postgresql":
            if not _row_ended_unless_earlier(doctor_id=doctor_id, mode=mode, start=start, now=now):
                _refresh_soon(loop, doctor_id)
            return
        unchanged = (
            start is not None
            and NextFreePeriod.objects.filter(
                Q(valid_until__isnull=True) | Q(valid_until__gt=now),
                doctor_id=doctor_id,
                mode=mode,
                start__lt=start,
            ).exists()
        )
        if not unchanged:
            next_free_periods_refresh(doctor_ids=[doctor_id], now=now)

    transaction.on_commit(refresh)


# The row names an earlier period and is still exact: nothing to do (true). Otherwise the row,
# if any, ends now, so search works the doctor out from the slots until the refresh (false).
_END_UNLESS_EARLIER = """
WITH r AS (
  SELECT id, (start IS NOT NULL AND start < %(start)s
              AND (valid_until IS NULL OR valid_until > %(now)s)) AS earlier
  FROM appointments_nextfreeperiod WHERE doctor_id = %(doctor)s AND mode = %(mode)s
), ended AS (
  UPDATE appointments_nextfreeperiod n SET valid_until = %(now)s FROM r
  WHERE n.id = r.id AND NOT r.earlier AND (n.valid_until IS NULL OR n.valid_until > %(now)s)
)
SELECT coalesce(bool_and(earlier), false) FROM r
"""


def _row_ended_unless_earlier(*, doctor_id: int, mode: str, start, now: dt.datetime) -> bool:
    if start is None:
        start = now  # no period named earlier than "now": the row ends
    rows = fixed_sql.run(
        _END_UNLESS_EARLIER, {"doctor": doctor_id, "mode": mode, "start": start, "now": now}
    )
    return bool(rows[0][0])


# How long a process gathers the doctors whose rows its bookings ended before it refreshes
# them in one transaction: the refresh of one doctor cost 8.5 ms of CPU here, of twenty 15 ms.
REFRESH_SOON_SECONDS = 1.0


class _Soon:
    lock = threading.Lock()
    doctors: set[int] = set()
    scheduled = False


def _refresh_soon(loop, doctor_id: int) -> None:
    with _Soon.lock:
        _Soon.doctors.add(doctor_id)
        if _Soon.scheduled:
            return
        _Soon.scheduled = True
    loop.call_soon_threadsafe(loop.call_later, REFRESH_SOON_SECONDS, _refresh_on_executor, loop)


def _refresh_on_executor(loop) -> None:
    loop.run_in_executor(None, refresh_gathered)


def refresh_gathered() -> int:
    """Refresh the rows `_refresh_soon` gathered (on an executor thread, with a database
    connection of its own, given back at the end). A failure is logged: the rows stay ended,
    so search still works those doctors out from the slots, and the next refresh of each
    doctor (or the beat, which takes rows ended for a while) writes them."""
    with _Soon.lock:
        doctor_ids, _Soon.doctors, _Soon.scheduled = sorted(_Soon.doctors), set(), False
    try:
        return next_free_periods_refresh(doctor_ids=doctor_ids) if doctor_ids else 0
    except Exception:
        logger.warning(
            "next free periods not refreshed for %d doctors", len(doctor_ids), exc_info=True
        )
        return 0
    finally:
        connection.close()


def next_free_periods_refresh_due(*, now: dt.datetime | None = None) -> int:
    """Recompute every row whose `valid_until` has passed, and write the rows of doctors who
    have slots but none yet (after a deploy, or slots written in bulk): the beat task. Returns
    how many rows were written."""
    now = now or timezone.now()
    due = set(
        NextFreePeriod.objects.filter(valid_until__lte=now).values_list("doctor_id", flat=True)
    )
    due.update(
        Doctor.objects.exclude(pk__in=NextFreePeriod.objects.values("doctor_id"))
        .filter(Exists(Slot.objects.filter(doctor_id=OuterRef("pk"), start__gt=now)))
        .values_list("pk", flat=True)
    )
    return next_free_periods_refresh(doctor_ids=due, now=now)


def next_free_periods_district_follow(
    *, hospital_ids: Iterable[int] = (), doctor_ids: Iterable[int] = ()
) -> int:
    """Give the rows of these hospitals' doctors, and of these doctors, the district of the
    doctor's hospital as it is now; returns how many rows changed. Called in the transaction
    that changed a hospital's district or moved a doctor, after that write (appointments.
    receivers).

    It first takes the refresh's per-doctor locks and holds them to the commit, so no refresh
    writes the old district after it: one that read it already commits before this update
    (which then corrects its rows), and one that starts later reads the new district."""
    hospital_ids, doctor_ids = sorted(set(hospital_ids)), sorted(set(doctor_ids))
    if not hospital_ids and not doctor_ids:
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # One statement, in doctor id order (as the refresh locks them).
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, d.id::integer) FROM"
                    " (SELECT id FROM hospitals_doctor"
                    "   WHERE hospital_id = ANY(%s) OR id = ANY(%s) ORDER BY id) d",
                    [_LOCK_SPACE, hospital_ids, doctor_ids],
                )
        district = (
            Hospital.objects.filter(doctors=OuterRef("doctor_id")).order_by().values("district")
        )
        return (
            NextFreePeriod.objects.filter(
                Q(doctor__hospital_id__in=hospital_ids) | Q(doctor_id__in=doctor_ids)
            )
            .exclude(district=F("doctor__hospital__district"))
            .update(district=Subquery(district[:1]))
        )
