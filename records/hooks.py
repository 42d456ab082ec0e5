"""Callables that higher apps register so records can ask without importing them.

appointments registers a counter of a patient's future appointments in its AppConfig.ready():

    from records import hooks
    hooks.future_appointment_counters.append(count_future_appointments)

Each counter is `(patient) -> int`; records refuses to edit or remove a person while any
counter answers more than zero.

telemedicine registers a listener for changes of who may act for a person:

    hooks.patient_access_listeners.append(rooms_recheck_for_patient)

Each listener is `(patient_id) -> None`, called after the transaction that revoked a link or
withdrew a consent of that person commits (never for a rolled-back change); the consult rooms
of the person then re-check everyone in them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import transaction

if TYPE_CHECKING:
    from records.models import Patient

future_appointment_counters: list[Callable[[Patient], int]] = []


def future_appointment_count(patient: Patient) -> int:
    return sum(counter(patient) for counter in future_appointment_counters)


patient_access_listeners: list[Callable[[int], None]] = []


def patient_access_changed(patient_id: int) -> None:
    """Call inside the transaction that took a right away (a link revoked, a consent withdrawn):
    every listener hears of it once that transaction commits."""
    for listener in patient_access_listeners:
        transaction.on_commit(lambda listener=listener: listener(patient_id))
