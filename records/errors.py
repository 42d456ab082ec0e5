"""The typed refusals of the clinical record's verbs (records.services)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class ClinicalRefused(ValidationError):
    """A clinical write the rules refuse; `code` is stable, the message is shown on the page."""


def clinical_refusal(message: Any, code: str, **params: Any) -> ClinicalRefused:
    return ClinicalRefused(message, code=code, params=params or None)


NOT_YOURS = _("Only the encounter's own doctor can write in it.")
CLOSED = _("This encounter is closed; nothing more can be written in it.")
