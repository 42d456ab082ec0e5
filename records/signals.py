"""Signals of records, for the apps above it (DESIGN.md §2: a lower app never imports a higher
one). Each is sent with `send()`, so a receiver's error surfaces as a direct call's would; the
receivers are connected, with a `dispatch_uid`, in the higher app's AppConfig.ready(). The two
functions below are the only senders.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import Signal

from records.models import Patient

# records asks how many appointments a person has ahead, with `patient`: it refuses to edit or
# remove a person while any receiver answers more than zero. appointments answers
# (AppointmentsConfig.ready).
future_appointments_counted = Signal()

# Someone lost the right to act for a person (a link revoked, a consent withdrawn, the person
# taken off an account), with `patient_id`; sent once the transaction that took the right away
# commits, never for a rolled-back one. telemedicine's rooms of the person then re-check
# everyone in them (TelemedicineConfig.ready).
patient_access_changed = Signal()


def future_appointments_count(*, patient: Any) -> int:
    """The person's appointments ahead, as the apps above count them (0 when none answers)."""
    answers = future_appointments_counted.send(sender=Patient, patient=patient)
    return sum(count for _receiver, count in answers)


def patient_access_changed_on_commit(patient_id: int) -> None:
    """Call inside the transaction that took a right away: `patient_access_changed` is sent
    once it commits."""
    transaction.on_commit(
        lambda: patient_access_changed.send(sender=Patient, patient_id=patient_id)
    )
