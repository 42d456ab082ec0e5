"""Signals of the directory, for the apps above it (DESIGN.md §2: a lower app never imports a
higher one). Each is sent with `send()`, so a receiver's error surfaces as a direct call's would;
the receivers are connected, with a `dispatch_uid`, in the higher app's AppConfig.ready().
"""

from __future__ import annotations

from typing import Any, Protocol

from django.dispatch import Signal


class FreePeriod(Protocol):
    start: Any  # an aware datetime
    end: Any
    places_left: int


# The directory asks for each doctor's next free period: sent with `doctors` (a list, never
# empty) by hospitals.selectors.next_free_periods. Each receiver answers `{doctor_id:
# FreePeriod}`; a doctor missing from every answer has no free period in the next two weeks.
# appointments answers from its slot table (AppointmentsConfig.ready).
next_free_periods_wanted = Signal()
