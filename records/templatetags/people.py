"""The only way templates show identifiers: {{ patient|masked_id }}, {{ phone|masked_phone }}."""

from __future__ import annotations

from django import template

from notifications.sms import mask_phone
from records.idnumbers import mask_id_number

register = template.Library()


@register.filter
def masked_id(value) -> str:
    """A Patient shows its stored masked form; a string is masked on the spot."""
    masked = getattr(value, "id_number_masked", None)
    if masked is not None:
        return masked
    return mask_id_number(str(value or ""))


@register.filter
def masked_phone(value: str) -> str:
    return mask_phone(value) if value else ""
