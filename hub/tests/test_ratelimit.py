"""The fixed-window counter: on Redis an INCR (and an EXPIRE after a window's first), elsewhere the cache's own incr."""

import os
import uuid

import pytest
import redis
from django.conf import settings

from hub import ratelimit


@pytest.fixture
def redis_client(monkeypatch):
    config = settings.CACHES["default"]
    url = config["LOCATION"] if config["BACKEND"] == ratelimit.REDIS_CACHE else "redis://127.0.0.1:6379/15"
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":  # CI runs every service
            pytest.fail(f"no Redis at {url}")
        pytest.skip(f"needs Redis at {url}")
    monkeypatch.setattr(ratelimit, "_redis", lambda: client)
    return client


def hits(key: str, count: int, *, limit: int = 2, window_ms: int = 60_000) -> list[bool]:
    return [ratelimit.rate_limit_hit(key=key, limit=limit, window_ms=window_ms)[0] for _ in range(count)]


def test_on_redis_the_window_counts_to_its_limit_and_expires(redis_client):
    key = f"test-{uuid.uuid4().hex}"

    assert hits(key, 3) == [True, True, False]

    [counter] = redis_client.keys(f"ratelimit:{key}:*")
    assert redis_client.get(counter) == b"3"
    assert 0 < redis_client.ttl(counter) <= 61  # the window, plus a second


def test_on_redis_a_counter_is_one_command_after_the_windows_first(redis_client, monkeypatch):
    sent: list[list[str]] = []
    original = redis.Redis.execute_command

    def execute_command(client, *args, **options):
        sent[-1].append(args[0])
        return original(client, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", execute_command)
    key = f"test-{uuid.uuid4().hex}"
    for _ in range(3):
        sent.append([])
        hits(key, 1, limit=5)

    assert sent == [["INCRBY", "EXPIRE"], ["INCRBY"], ["INCRBY"]]


def test_elsewhere_the_caches_own_counter_is_used(settings, monkeypatch):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "test"}}
    monkeypatch.setattr(ratelimit, "_redis", lambda: None)

    assert hits(f"test-{uuid.uuid4().hex}", 3) == [True, True, False]


def test_a_cache_that_cannot_be_reached_lets_the_request_through(monkeypatch):
    monkeypatch.setattr(ratelimit, "_redis", lambda: redis.Redis(port=1, socket_connect_timeout=0.2))

    assert hits(f"test-{uuid.uuid4().hex}", 3, limit=1) == [True, True, True]  # fail open, counted in metrics
