"""The rush's short sold-out page (issue 16): the refusal, the waiting list one tap away (the
confirmation page, which offers it with the people to choose from), another time. It says
nothing about the account asking, so it is rendered once per slot and language and served to
every POST that finds the slot full without reading anything else: by the middleware
(portal/sold_out_early.py) for a slot remembered full, and by the booking page for a booking
refused full under the slot's lock."""

from __future__ import annotations

from functools import lru_cache

from django.template.loader import render_to_string
from django.utils import translation


def sold_out_early_page(*, slot_id: int, doctor_id: int) -> str:
    return _page(slot_id, doctor_id, translation.get_language())


@lru_cache(maxsize=1024)
def _page(slot_id: int, doctor_id: int, language: str) -> str:
    """The answer depends on nothing else: rendered once per slot and language."""
    return render_to_string(
        "appointments/sold_out_early.html", {"slot_id": slot_id, "doctor_id": doctor_id}
    )
