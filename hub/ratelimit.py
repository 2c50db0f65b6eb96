"""A fixed-window request counter in the shared cache (Redis in production), so every process
sees the same count: on Redis one INCR per request, and an EXPIRE after a window's first. The database cache of the
default setup is shared too, though its increments are not atomic: under heavy concurrency it may
let a few extra requests through.

When the cache cannot be reached the request is let through (fail open) and counted in
`hub_rate_limiter_unavailable_total`: the limit protects the hub from floods, while refusing
authenticated providers' orders during a cache outage would lose business (docs/RUNBOOK.md).
"""

import math
import time
from functools import cache as once

import redis
import structlog
from django.conf import settings
from django.core.cache import cache

from hub import metrics

logger = structlog.get_logger(__name__)
REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


def _redis() -> redis.Redis | None:
    """The shared cache's Redis, when it is one: a counter there costs one command (INCR) where Django's
    `cache.incr` costs two round trips (it asks whether the key exists first)."""
    config = settings.CACHES["default"]
    if config["BACKEND"] != REDIS_CACHE:
        return None
    location = config["LOCATION"]
    return _client(location[0] if isinstance(location, list) else location)


@once
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def _count(cache_key: str, window_ms: int) -> int:
    expires_in = math.ceil(window_ms / 1000) + 1
    client = _redis()
    if client is not None:
        # Only the window's first hit sets its expiry: each redis-py command costs about 2 % of an
        # order's instructions (docs/PERFORMANCE.md, tenth step). The window is part of the key, so a
        # key left without expiry (the process died between the two, or Redis went away) is never
        # counted again: a few bytes, not a limit stuck shut.
        count = int(client.incr(cache_key))
        if count == 1:
            client.expire(cache_key, expires_in)
        return count
    try:
        return cache.incr(cache_key)  # the common case: the window's counter exists
    except ValueError:
        if cache.add(cache_key, 1, timeout=expires_in):
            return 1
        return cache.incr(cache_key)  # another process created it meanwhile


def rate_limit_hit(*, key: str, limit: int, window_ms: int, label: str = "") -> tuple[bool, int]:
    """Count one request; return (allowed, seconds until the window resets)."""
    now_ms = int(time.time() * 1000)
    window = now_ms // window_ms
    retry_after = max(1, math.ceil(((window + 1) * window_ms - now_ms) / 1000))
    try:
        count = _count(f"ratelimit:{key}:{window}", window_ms)
    except Exception:  # noqa: BLE001 - any cache backend's connection error: fail open
        metrics.RATE_LIMITER_UNAVAILABLE.labels(label or key).inc()
        logger.warning("rate_limiter_unavailable", key=label or key)
        return True, retry_after
    return count <= limit, retry_after
