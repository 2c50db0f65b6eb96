"""Outbound HTTP shared by every client: one keep-alive session per thread, Retry-After parsing."""

import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from requests.adapters import HTTPAdapter

USER_AGENT = "IntegrationHub/1.0"
_local = threading.local()


def session() -> requests.Session:
    """This thread's session (requests.Session is not safe to share between threads)."""
    if not hasattr(_local, "session"):
        http = requests.Session()
        adapter = HTTPAdapter(pool_connections=16, pool_maxsize=16, max_retries=0)
        http.mount("http://", adapter)
        http.mount("https://", adapter)
        http.headers["User-Agent"] = USER_AGENT
        _local.session = http
    return _local.session


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
