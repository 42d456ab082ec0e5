"""Text messages: one `send_sms` in front of a pluggable backend (settings.SMS_BACKEND).

A provider is added as a class with `send(phone, text, *, template=None, params=None)`; see
docs/operations.md. A provider in China sends only approved templates: `template` names one of
settings.SMS_TEMPLATES ("code", "notice", …) and `params` fills its variables; the text stays the
console's and the tests' reading of it. A backend raises `SMSRetry` for a failure worth trying
again (throttled, provider down) and `SMSRejected` for one that never will succeed (invalid
template, number or credentials). Phone numbers never reach the log unmasked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
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


class SMSError(Exception):
    """A provider did not take the message."""


class SMSRetry(SMSError):
    """Worth trying again later: throttled, out of quota for now, provider or network down."""


class SMSRejected(SMSError):
    """Will never be sent as it is: invalid template, number, signature or credentials."""


@dataclass(frozen=True)
class SMS:
    phone: str
    text: str
    template: str | None = None
    params: dict[str, str] = field(default_factory=dict)


class ConsoleBackend:
    """Development: the text goes to the log, with the number masked."""

    def send(
        self, phone: str, text: str, *, template: str | None = None, params: dict | None = None
    ) -> None:
        logger.info("SMS to %s: %s", mask_phone(phone), text)


# Like django.core.mail.outbox: the locmem backend collects here for tests to read.
outbox: list[SMS] = []


class LocmemBackend:
    def send(
        self, phone: str, text: str, *, template: str | None = None, params: dict | None = None
    ) -> None:
        outbox.append(SMS(phone=phone, text=text, template=template, params=dict(params or {})))


@cache
def _backend(path: str):
    return import_string(path)()


def send_sms(
    *, phone: str, text: str, template: str | None = None, params: dict | None = None
) -> None:
    """Send `text` to `phone` (E.164). A provider that sends only templates uses `template`
    and `params` when given, else its template for free text (docs/operations.md)."""
    _backend(settings.SMS_BACKEND).send(phone, text, template=template, params=params)
