"""A fixed-window request counter in the shared cache (Redis in production), so every process
sees the same count. The database cache of the default setup is shared too, though its
increments are not atomic: under heavy concurrency it may let a few extra requests through."""

import math
import time

from django.core.cache import cache


def rate_limit_hit(*, key: str, limit: int, window_ms: int) -> tuple[bool, int]:
    """Count one request; return (allowed, seconds until the window resets)."""
    now_ms = int(time.time() * 1000)
    window = now_ms // window_ms
    cache_key = f"ratelimit:{key}:{window}"
    try:
        count = cache.incr(cache_key)  # the common case: the window's counter exists
    except ValueError:
        if cache.add(cache_key, 1, timeout=math.ceil(window_ms / 1000) + 1):
            count = 1
        else:  # another process created it meanwhile
            count = cache.incr(cache_key)
    retry_after = max(1, math.ceil(((window + 1) * window_ms - now_ms) / 1000))
    return count <= limit, retry_after
