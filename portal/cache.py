"""The production cache: Redis, degrading to this process's memory while Redis is unreachable.

DESIGN.md §5: when Redis is down the site keeps working and /healthz says what is down. A plain
Redis cache would fail every request that touches it, and django-redis's IGNORE_EXCEPTIONS turns
every write into a no-op, which makes allauth's rate limiter refuse every sign-in (it fails
closed when it cannot take its lock). Falling back to local memory keeps rate limits counting,
per process, until Redis answers again.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.locmem import LocMemCache
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# After a failure, requests skip Redis for this long instead of each paying a connect timeout.
RETRY_AFTER_SECONDS = 5.0

_DEGRADING_METHODS = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "set_many",
    "delete_many",
    "has_key",
    "incr",
    "decr",
    "clear",
)


class _Shared:
    """What every instance of one configured cache shares within a process. Django gives each
    thread, and under ASGI each request, a cache object of its own (`caches` lives in the
    request's context): kept per instance, the fallback memory and the "Redis is down" mark
    lasted one request (rate limits stopped counting while Redis was down, and each request
    waited out its own connect timeout), and every request built its own Redis client."""

    def __init__(self, number: int, timeout) -> None:
        self.fallback = LocMemCache(f"redis-fallback-{number}", {"TIMEOUT": timeout})
        self.down_until = 0.0
        self.client = None


_SHARED: dict[str, _Shared] = {}
_SHARED_LOCK = threading.Lock()


class DegradingRedisCache(RedisCache):
    def __init__(self, server: str, params: dict) -> None:
        super().__init__(server, params)
        key = f"{server} {sorted(params.items())!r}"
        shared = _SHARED.get(key)  # every request builds an instance: no lock once it exists
        if shared is None:
            with _SHARED_LOCK:
                shared = _SHARED.get(key)
                if shared is None:
                    shared = _SHARED[key] = _Shared(len(_SHARED), self.default_timeout)
        self._shared = shared

    @property
    def client(self):
        """django-redis's client (and through it redis-py's), one per process for this cache:
        its connection pool was already shared, the objects around it were built per request."""
        if self._shared.client is None:
            self._shared.client = self._client_cls(self._server, self._params, self)
        return self._shared.client

    def ping(self) -> None:
        """Raise unless Redis itself answers (for /healthz: the fallback does not count)."""
        self.client.get_client(write=True).ping()


def _degrading(name: str):
    def method(self: DegradingRedisCache, *args, **kwargs):
        if time.monotonic() >= self._shared.down_until:
            try:
                return getattr(RedisCache, name)(self, *args, **kwargs)
            # django-redis re-raises the client's own error when not told to swallow it.
            except (ConnectionInterrupted, RedisConnectionError, RedisTimeoutError) as exc:
                logger.warning("Redis cache unreachable (%s); using process memory for now", exc)
                self._shared.down_until = time.monotonic() + RETRY_AFTER_SECONDS
        return getattr(self._shared.fallback, name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in _DEGRADING_METHODS:
    setattr(DegradingRedisCache, _name, _degrading(_name))
