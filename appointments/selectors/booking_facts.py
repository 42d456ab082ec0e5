"""The usual booking's one read of the slot and every patient rule's facts, as fixed text
(appointments.fixed_sql): compiling the same read as a queryset (`policies._facts_orm`, which
serves SQLite) cost 8.6 ms of Python for 0.2 ms of PostgreSQL. The rules' own definitions are
the ORM's, in appointments.policies and records.selectors; tests/appointments/test_fixed_sql.py
holds the two equal, case by case. appointments.policies supplies the windows and limits."""

from __future__ import annotations

from functools import cache

from appointments import fixed_sql
from appointments.models import Slot
from appointments.selectors.slots import (
    SLOT_RELATIONS_FROM,
    slot_relations_columns,
    slot_relations_width,
    slot_with_relations,
)

# (may book, consented, near, no-shows, by the account this month, by the phone this month)
_FACTS = """
SELECT {slot},
  EXISTS (SELECT 1 FROM records_patientlink l
          WHERE l.account_id = %(account)s AND l.patient_id = %(patient)s
            AND l.can_book AND l.revoked_at IS NULL),
  EXISTS (SELECT 1 FROM records_consent c
          WHERE c.patient_id = %(patient)s AND c.kind = %(consent)s AND c.revoked_at IS NULL),
  EXISTS (SELECT 1 FROM appointments_appointment a
          JOIN appointments_slot o ON o.id = a.slot_id
          WHERE a.patient_id = %(patient)s AND a.status = ANY(%(active)s)
            AND o.start >= s.start - interval '1 day'
            AND o.start < greatest(s.start + interval '1 day', s."end")),
  (SELECT count(*) FROM appointments_appointment a
   JOIN appointments_slot o ON o.id = a.slot_id
   WHERE a.patient_id = %(patient)s AND a.status = 'no_show' AND o.start >= %(no_shows_from)s),
  (SELECT count(*) FROM appointments_appointment a
   WHERE a.cap_account_id = %(account)s
     AND a.created_at >= %(month_from)s AND a.created_at < %(month_to)s
     AND a.cancel_reason <> ALL(%(not_counted)s))
  + (SELECT count(*) FROM appointments_appointment a
     WHERE a.cap_account_id IS NULL AND a.booked_by_id = %(account)s
       AND a.created_at >= %(month_from)s AND a.created_at < %(month_to)s
       AND a.cancel_reason <> ALL(%(not_counted)s)),
  CASE WHEN %(phone)s = '' THEN 0 ELSE
    (SELECT count(*) FROM appointments_appointment a
     WHERE a.booked_phone = %(phone)s
       AND a.created_at >= %(month_from)s AND a.created_at < %(month_to)s
       AND a.cancel_reason <> ALL(%(not_counted)s)) END
{tables}
WHERE s.id = %(slot)s
"""


@cache
def _facts_sql(lock: bool) -> str:
    text = _FACTS.format(slot=slot_relations_columns(user=True), tables=SLOT_RELATIONS_FROM)
    return text + "FOR NO KEY UPDATE OF s\n" if lock else text


def booking_facts_read(*, slot_id: int, parameters: dict, lock: bool) -> tuple[Slot, tuple]:
    """(the slot with its site, doctor (and user) and department, the facts); the slot's row
    locked FOR NO KEY UPDATE when `lock`. Raises Slot.DoesNotExist."""
    rows = fixed_sql.run(_facts_sql(lock), {**parameters, "slot": slot_id})
    if not rows:
        raise Slot.DoesNotExist
    row = rows[0]
    return slot_with_relations(row, user=True), row[slot_relations_width(user=True) :]
