"""`{% text_consult_offer doctor as offer %}`: the doctor's open text consult offer, or None.

The doctor's page belongs to appointments, which may not import telemedicine (DESIGN.md §2):
its template asks here, one query, and shows "Ask by text" when the doctor takes them."""

from __future__ import annotations

from django import template

from telemedicine.selectors_text import text_offer_open

register = template.Library()


@register.simple_tag
def text_consult_offer(doctor):
    return text_offer_open(doctor_id=doctor.pk)
