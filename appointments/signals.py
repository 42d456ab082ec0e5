"""Signals of appointments, for the apps above it (DESIGN.md §2: a lower app never imports a
higher one). Inside appointments nothing listens here: a closure cancels its appointments and a
booking writes its messages by direct calls (appointments/services/closures.py, messages.py).

Sent with `send()` by the booking services inside their transaction, after appointments' own
work, so a receiver's error rolls the step back as a direct call's would; receivers that reach
outside the database (sockets) wrap that part in `transaction.on_commit`, so a rolled-back
booking tells nobody. Every one carries `appointment` and `by` (the acting account or None).
The receivers are connected, with a `dispatch_uid`, in TelemedicineConfig.ready().
"""

from django.dispatch import Signal

# `appointment_booked`: a new appointment (also the new one of a reschedule, with
#     `rescheduled_from=` the old one). telemedicine creates the Consultation of an online one.
appointment_booked = Signal()
# `appointment_cancelled`: with `reason` (Appointment.CancelReason). telemedicine ends the
#     consult and its room re-checks whoever is in it.
appointment_cancelled = Signal()
# `appointment_status_changed`: any other edge of the status machine, with `old` and `new`.
#     telemedicine's room re-checks whoever is in it.
appointment_status_changed = Signal()
