"""Mainland resident ID numbers (GB 11643-1999): checksum, what they encode, and masking.

The one place that knows the format: forms, services, factories and templates all call here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# The first two digits name a province-level division (GB/T 2260): North China 11-15, the
# North-East 21-23, the East 31-37, the Centre and South 41-46, the South-West 50-54, the
# North-West 61-65, Taiwan 71, Hong Kong, Macao 81-82, and 83 (holders of Taiwan residence
# permits). Nothing else exists, so 000000 or 99xxxx is a made-up number.
PROVINCE_CODES = frozenset(
    (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
        83,
    )
)
_CHECK_CHARS = "10X98765432"

MALE = "male"
FEMALE = "female"


@dataclass(frozen=True)
class IdNumberFacts:
    """What an ID number says about its holder."""

    number: str
    birth_date: dt.date
    sex: str  # MALE | FEMALE


def check_character(first17: str) -> str:
    """The 18th character that GB 11643 computes from the first 17 digits (ISO 7064 MOD 11-2)."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalise_id_number(value: str) -> str:
    """Strip spaces and upper-case a trailing x, so one person always has one spelling."""
    return "".join(value.split()).upper()


def parse_id_number(value: str) -> IdNumberFacts:
    """Validate an 18-character mainland ID number and return what it encodes.

    Raises ValidationError with a message a person can act on.
    """
    number = normalise_id_number(value)
    if (
        len(number) != 18
        or not number[:17].isdigit()
        or not (number[17].isdigit() or number[17] == "X")
    ):
        raise ValidationError(
            _("An ID number has 18 characters: 17 digits, then a digit or X."),
            code="id_format",
        )
    if int(number[:2]) not in PROVINCE_CODES:
        raise ValidationError(
            _("This ID number does not begin with a valid region code: check its first digits."),
            code="id_region",
        )
    try:
        birth_date = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("This ID number does not contain a valid birth date."), code="id_birth_date"
        ) from None
    if birth_date.year < 1800:
        raise ValidationError(
            _("This ID number does not contain a valid birth date."), code="id_birth_date"
        )
    if check_character(number[:17]) != number[17]:
        raise ValidationError(
            _("This ID number's last character does not match: check it for a typing mistake."),
            code="id_checksum",
        )
    sex = MALE if int(number[16]) % 2 else FEMALE
    return IdNumberFacts(number=number, birth_date=birth_date, sex=sex)


def make_id_number(
    *, birth_date: dt.date, sex: str, region: str = "330203", sequence: int = 0
) -> str:
    """A valid ID number for the given facts (demo data and test factories)."""
    if int(region[:2]) not in PROVINCE_CODES:
        raise ValueError(f"{region}: no province has the code {region[:2]}")
    order = (sequence * 2) % 1000
    if sex == MALE:
        order += 1
    first17 = f"{region}{birth_date:%Y%m%d}{order:03d}"
    return first17 + check_character(first17)


def mask_id_number(value: str) -> str:
    """330203********1234: the region and the last four; everything between hidden.

    The only form in which an ID number leaves the database: pages, exports, e-mail, logs.
    """
    number = normalise_id_number(value or "")
    if len(number) == 18:
        return f"{number[:6]}{'*' * 8}{number[-4:]}"
    # Anything else shows no more than its last two characters.
    return "*" * max(len(number) - 2, 0) + number[-2:]
