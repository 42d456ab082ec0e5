"""What appointments answers when a lower app asks through its signals (connected in
AppointmentsConfig.ready): thin adapters from the signal's arguments to our selectors."""

from __future__ import annotations

from typing import Any

from appointments.selectors.appointments import future_appointments_count
from appointments.selectors.slots import next_free_periods


def next_free_periods_answer(sender: Any, *, doctors: list, **kwargs: Any) -> dict:
    """hospitals.signals.next_free_periods_wanted: each doctor's next bookable slot."""
    return next_free_periods(doctors=doctors)


def future_appointments_answer(sender: Any, *, patient: Any, **kwargs: Any) -> int:
    """records.signals.future_appointments_counted: the person's active appointments ahead."""
    return future_appointments_count(patient=patient)
