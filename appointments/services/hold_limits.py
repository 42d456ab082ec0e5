"""How often one account, and one client address, may ask for a hold: `HOLD_RATE_PER_MINUTE`
(10) each, so a script cannot sweep a release's places into holds (issue 16).

Counted in the cache (Redis in production; each process's memory while Redis is down, see
portal/cache.py), in fixed one-minute windows. The address is the one the audit trail records
(the trusted proxy's X-Forwarded-For entry), so it works behind the proxy; a caller outside a
request (a task, a test) has none and is counted by account only."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

from appointments.errors import TooManyHolds
from audit.context import current_audit_context

WINDOW_SECONDS = 60


def _count(key: str) -> int:
    # add() starts the window's counter (a no-op when it exists); incr() is atomic in Redis.
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        return cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.add(key, 1, timeout=WINDOW_SECONDS * 2)
        return 1


def hold_rate_check(*, account: Any) -> None:
    """Count one hold request of `account` (and of the request's address); raise
    `TooManyHolds` past `HOLD_RATE_PER_MINUTE` in this minute. Touches no database."""
    limit = int(getattr(settings, "HOLD_RATE_PER_MINUTE", 10))
    window = int(time.time() // WINDOW_SECONDS)
    keys = [f"holds:rate:account:{account.pk}:{window}"]
    context = current_audit_context()
    if context is not None and context.ip_address:
        keys.append(f"holds:rate:address:{context.ip_address}:{window}")
    counts = [_count(key) for key in keys]  # both windows count, whichever refuses
    if max(counts) > limit:
        raise TooManyHolds()
