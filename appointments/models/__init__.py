"""Time inventory: weekly rotas, the slots they generate, closures, and calendar-feed tokens;
bookings on those slots (holds, appointments, the waiting list) and the desk's queues.

One module per concept; every model is re-exported here, so `from appointments.models import
Slot` and the string references `"appointments.Slot"` keep working."""

# isort: off
# Imported in the order the models were declared when this was one module, so the app
# registry lists them as before (rota, then slots, then bookings).
from appointments.models.rota import Closure, Mode, ScheduleRule, Weekday
from appointments.models.calendar import CalendarToken
from appointments.models.slots import Hold, Pool, Slot
from appointments.models.desk import DeskQueue
from appointments.models.booking import (
    ACTIVE_STATUSES,
    CLOSURE_CANCELS_STATUSES,
    Appointment,
    WaitlistEntry,
)
from appointments.models.search import NextFreePeriod

# isort: on

__all__ = [
    "ACTIVE_STATUSES",
    "CLOSURE_CANCELS_STATUSES",
    "Appointment",
    "CalendarToken",
    "Closure",
    "DeskQueue",
    "Hold",
    "Mode",
    "NextFreePeriod",
    "Pool",
    "ScheduleRule",
    "Slot",
    "WaitlistEntry",
    "Weekday",
]
