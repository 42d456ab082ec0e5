"""The production cache: Redis, degrading to this process's memory while Redis is unreachable.

DESIGN.md §5: when Redis is down the site keeps working and /healthz says what is down. A plain
Redis cache would fail every request that touches it, and django-redis's IGNORE_EXCEPTIONS turns
every write into a no-op, which makes allauth's rate limiter refuse every sign-in (it fails
closed when it cannot take its lock). Falling back to local memory keeps rate limits counting,
per process, until Redis answers again.
"""

from __future__ import annotations

import logging
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


class DegradingRedisCache(RedisCache):
    def __init__(self, server: str, params: dict) -> None:
        super().__init__(server, params)
        self._fallback = LocMemCache(
            f"redis-fallback-{id(self)}", {"TIMEOUT": self.default_timeout}
        )
        self._redis_down_until = 0.0

    def ping(self) -> None:
        """Raise unless Redis itself answers (for /healthz: the fallback does not count)."""
        self.client.get_client(write=True).ping()


def _degrading(name: str):
    def method(self: DegradingRedisCache, *args, **kwargs):
        if time.monotonic() >= self._redis_down_until:
            try:
                return getattr(RedisCache, name)(self, *args, **kwargs)
            # django-redis re-raises the client's own error when not told to swallow it.
            except (ConnectionInterrupted, RedisConnectionError, RedisTimeoutError) as exc:
                logger.warning("Redis cache unreachable (%s); using process memory for now", exc)
                self._redis_down_until = time.monotonic() + RETRY_AFTER_SECONDS
        return getattr(self._fallback, name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in _DEGRADING_METHODS:
    setattr(DegradingRedisCache, _name, _degrading(_name))
