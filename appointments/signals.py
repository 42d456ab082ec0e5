"""Signals other parts of the portal plug into (DESIGN.md §2: lower apps never import higher)."""

from django.dispatch import Signal

# Sent by `closure_create` inside its transaction, after the covered slots are closed, with
# `closure` and `slot_ids` (the slots it closed). The booking issue connects here: cancel every
# appointment in those slots with reason `closure` and tell the patients (on commit).
closure_created = Signal()

# Sent by the booking services inside their transaction; receivers that reach outside the
# database (e-mail, sockets) wrap their work in `transaction.on_commit`, so a rolled-back
# booking tells nobody. Every one carries `appointment` and `by` (the acting account or None).
#
# `appointment_booked`: a new appointment (also the new one of a reschedule, with
#     `rescheduled_from=` the old one). telemedicine creates the Consultation here.
appointment_booked = Signal()
# `appointment_cancelled`: with `reason` (Appointment.CancelReason).
appointment_cancelled = Signal()
# `appointment_status_changed`: any other edge of the status machine, with `old` and `new`.
appointment_status_changed = Signal()
