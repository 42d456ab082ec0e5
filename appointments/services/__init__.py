"""Writes of the appointments app (DESIGN.md §3), one module per topic: the rota and its slots,
closures, calendar-feed tokens, a slot's places, holds, booking, the status machine, the waiting
list, the desk's queue, reminders, booking messages and a stopped clinic's rebooking offer.
Reads are in appointments.selectors.

Code outside the app imports the verbs from here (`from appointments.services import
appointment_book`); modules inside the app import from the concrete module, so this package
never takes part in an import cycle. Each service owns one transaction and writes an AuditEvent
whose target is the appointment (or hold, or waiting-list entry) and whose `on_behalf_of` is the
patient.

The lock order, for the whole portal (DESIGN.md §3): a transaction that locks rows of several
of these tables locks them as Slot → Appointment → Consultation → Encounter, then the rest
(holds, referrals, waiting-list entries, queues, care relationships), and rows of one table in
primary-key order; a transaction that handles several appointments (a closure) locks all their
slots first, then takes the appointments one after another in primary-key order. The slot row
comes first because freeing or taking a place writes it: a path that starts from an appointment
(a cancel) reads its `slot_id` without a lock, locks the slot, then the appointment, and checks
that it still points there. Two transactions therefore never wait on each other in a circle;
tests/appointments/test_lock_order.py makes each crossing pair deadlock when the order is broken.
A status step that frees no place (check-in, no-show, completion) locks the appointment alone.
One known exception: the desk's "call next" locks the doctor's queue rows before the checked-in
appointment it calls; appointments/services/queue.py explains why that never closes a circle.
"""

from appointments.errors import BookingRefused
from appointments.services.alternatives import offer_take
from appointments.services.booking import appointment_book, waitlist_promote
from appointments.services.calendar import (
    calendar_token_issue,
    calendar_token_mark_used,
    calendar_token_revoke,
)
from appointments.services.closures import closure_cancel_appointments, closure_create
from appointments.services.hold_limits import hold_rate_check
from appointments.services.holds import hold_create, hold_release, release_expired_holds
from appointments.services.next_free import (
    next_free_periods_refresh,
    next_free_periods_refresh_due,
    next_free_periods_refresh_later,
)
from appointments.services.queue import queue_assign, queue_call_next
from appointments.services.reminders import reminders_send_due, reminders_send_due_batch
from appointments.services.rota import (
    SLOT_INSERT_COLUMNS,
    schedule_rule_create,
    schedule_rule_delete,
    schedule_rule_update,
    slots_generate,
    slots_insert,
)
from appointments.services.status import (
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_lock,
    appointment_mark_no_show,
    appointment_reschedule,
    appointment_start_consult,
    mark_no_shows,
)
from appointments.services.waitlist import waitlist_join, waitlist_leave

__all__ = [
    "SLOT_INSERT_COLUMNS",
    "BookingRefused",
    "appointment_book",
    "appointment_cancel",
    "appointment_check_in",
    "appointment_complete",
    "appointment_lock",
    "appointment_mark_no_show",
    "appointment_reschedule",
    "appointment_start_consult",
    "calendar_token_issue",
    "calendar_token_mark_used",
    "calendar_token_revoke",
    "closure_cancel_appointments",
    "closure_create",
    "hold_create",
    "hold_rate_check",
    "hold_release",
    "mark_no_shows",
    "next_free_periods_refresh",
    "next_free_periods_refresh_due",
    "next_free_periods_refresh_later",
    "offer_take",
    "queue_assign",
    "queue_call_next",
    "release_expired_holds",
    "reminders_send_due",
    "reminders_send_due_batch",
    "schedule_rule_create",
    "schedule_rule_delete",
    "schedule_rule_update",
    "slots_generate",
    "slots_insert",
    "waitlist_join",
    "waitlist_leave",
    "waitlist_promote",
]
