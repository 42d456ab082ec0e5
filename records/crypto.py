"""ID numbers at rest: encrypted with MultiFernet, found through a keyed hash.

settings.RECORDS_ENCRYPTION_KEYS lists Fernet keys, newest first: the first encrypts, all
decrypt, so adding a key in front rotates without making old rows unreadable
(`manage.py records_rotate_key` then re-encrypts them). settings.RECORDS_HASH_KEY keys the
HMAC-SHA256 that makes an ID number unique on the platform without storing it in the clear.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

from records.idnumbers import normalise_id_number


@lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _cipher() -> MultiFernet:
    return _multifernet(tuple(settings.RECORDS_ENCRYPTION_KEYS))


def encrypt_id_number(number: str) -> str:
    return _cipher().encrypt(normalise_id_number(number).encode()).decode()


def decrypt_id_number(token: str) -> str:
    return _cipher().decrypt(token.encode()).decode()


def reencrypt(token: str) -> str:
    """The same plaintext under the newest key (a no-op in meaning, new bytes on disk)."""
    return _cipher().rotate(token.encode()).decode()


def id_number_hash(number: str) -> str:
    key = settings.RECORDS_HASH_KEY.encode()
    return hmac.new(key, normalise_id_number(number).encode(), hashlib.sha256).hexdigest()
