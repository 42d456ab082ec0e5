"""Demo data for text consults: every online doctor with an account takes them (idempotent)."""

from __future__ import annotations

from hospitals.models import Doctor
from telemedicine.models import TextConsultOffer


def seed_text_offers() -> int:
    """Open text consults for the demo's online doctors who sign in; returns how many are new."""
    created = 0
    for doctor in Doctor.objects.filter(offers_online=True, user__isnull=False, is_active=True):
        _offer, was_created = TextConsultOffer.objects.get_or_create(
            doctor=doctor,
            defaults={"is_open": True, "daily_limit": 20, "price_note": "¥20 / 次 per consult"},
        )
        created += was_created
    return created
