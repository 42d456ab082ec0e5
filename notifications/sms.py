"""Text messages: one `send_sms` in front of a pluggable backend (settings.SMS_BACKEND).

A provider is added as a class with `send(phone, text)`; see docs/operations.md. Phone numbers never
reach the log unmasked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def mask_phone(phone: str) -> str:
    """+8613812345678 -> +86 138****5678; short or odd input keeps only its last 2 digits."""
    digits = phone.lstrip("+")
    if phone.startswith("+86") and len(digits) == 13:
        national = digits[2:]
        return f"+86 {national[:3]}****{national[-4:]}"
    return "*" * max(len(phone) - 2, 0) + phone[-2:]


@dataclass(frozen=True)
class SMS:
    phone: str
    text: str


class ConsoleBackend:
    """Development: the text goes to the log, with the number masked."""

    def send(self, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", mask_phone(phone), text)


# Like django.core.mail.outbox: the locmem backend collects here for tests to read.
outbox: list[SMS] = []


class LocmemBackend:
    def send(self, phone: str, text: str) -> None:
        outbox.append(SMS(phone=phone, text=text))


@cache
def _backend(path: str):
    return import_string(path)()


def send_sms(*, phone: str, text: str) -> None:
    _backend(settings.SMS_BACKEND).send(phone, text)
