"""Callables that higher apps register so records can ask without importing them.

appointments registers a counter of a patient's future appointments in its AppConfig.ready():

    from records import hooks
    hooks.future_appointment_counters.append(count_future_appointments)

Each counter is `(patient) -> int`; records refuses to edit or remove a person while any
counter answers more than zero.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from records.models import Patient

future_appointment_counters: list[Callable[[Patient], int]] = []


def future_appointment_count(patient: Patient) -> int:
    return sum(counter(patient) for counter in future_appointment_counters)
