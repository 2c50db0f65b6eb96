"""Provider bearer tokens in the shared cache: one token request per expiry across every process.

A token is kept until 5 minutes before it expires (half its life when it lives under 10 minutes).
A process that finds no token takes a short lock in the cache and logs in; the others wait for
the token it stores instead of logging in themselves. A 401 drops the token it was refused with
(never a newer one) so the next call logs in again once.
"""

import time

import structlog
from django.core.cache import cache

from hub import metrics
from providers.adapters.base import LoginFailed, ProviderAdapter

logger = structlog.get_logger(__name__)
REFRESH_BEFORE_EXPIRY_SECONDS = 300
LOCK_SECONDS = 30  # longer than a login may take (PROVIDER_CALL_TIMEOUT_SECONDS)
WAIT_SECONDS = 15
POLL_SECONDS = 0.05


def _key(adapter: ProviderAdapter) -> str:
    return f"provider-token:{adapter.name}"


def cache_seconds(expires_in: float) -> float:
    if expires_in > 2 * REFRESH_BEFORE_EXPIRY_SECONDS:
        return expires_in - REFRESH_BEFORE_EXPIRY_SECONDS
    return expires_in / 2


def bearer_token(adapter: ProviderAdapter) -> str:
    key = _key(adapter)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if token := cache.get(key):
            return token
        if cache.add(f"{key}:lock", "1", timeout=LOCK_SECONDS):
            try:
                return cache.get(key) or _login(adapter, key)  # stored meanwhile by the lock's last holder?
            finally:
                cache.delete(f"{key}:lock")
        if time.monotonic() > deadline:
            raise LoginFailed("another process's token request did not finish in time")
        time.sleep(POLL_SECONDS)


def _login(adapter: ProviderAdapter, key: str) -> str:
    try:
        token = adapter.login()
    except Exception:
        metrics.PROVIDER_LOGINS.labels(adapter.name, "failed").inc()
        raise
    metrics.PROVIDER_LOGINS.labels(adapter.name, "ok").inc()
    try:
        cache.set(key, token.value, timeout=cache_seconds(token.expires_in))
    except Exception:  # noqa: BLE001 - a cache that refuses the token must not break the call: use it uncached
        metrics.PROVIDER_TOKENS_UNCACHED.labels(adapter.name).inc()
        logger.warning("provider_token_not_cached", provider=adapter.name, exc_info=True)
    logger.info("provider_login", provider=adapter.name, expires_in=token.expires_in)
    return token.value


def provider_token_forget(*, adapter: ProviderAdapter) -> bool:
    """An operator's "log in again": the cached token is dropped, whichever it is, and the next call
    fetches a new one. Whether there was one."""
    return bool(cache.delete(_key(adapter)))


def drop_token(adapter: ProviderAdapter, refused: str) -> None:
    """Forget the token the provider refused, unless another process already replaced it."""
    key = _key(adapter)
    if cache.get(key) == refused:
        cache.delete(key)
