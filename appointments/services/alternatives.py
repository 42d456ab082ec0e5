"""Taking a stopped clinic's one-click rebooking offer (the offer and the ranked alternatives are
read in appointments/selectors/alternatives.py)."""

from __future__ import annotations

from typing import Any

from appointments.models import Appointment
from appointments.selectors.alternatives import offer_key, offer_open
from appointments.services.booking import appointment_book


def offer_take(*, token: str, account: Any) -> Appointment:
    """Take an offer: book the cancelled appointment's patient into the offered slot (every
    booking rule applies). Raises OfferRefused or a BookingRefused."""

    old, slot = offer_open(token=token, account=account)
    return appointment_book(
        patient=old.patient, slot=slot, booked_by=account, idempotency_key=offer_key(old.pk)
    )
