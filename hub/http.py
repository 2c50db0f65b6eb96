"""Outbound HTTP shared by every client: one keep-alive session per thread, Retry-After parsing."""

import os
import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from requests.adapters import HTTPAdapter

USER_AGENT = "IntegrationHub/1.0"
_local = threading.local()
PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def _proxy_configured() -> bool:
    return any(name.lower() in PROXY_VARIABLES for name in os.environ)


def session() -> requests.Session:
    """This thread's session (requests.Session is not safe to share between threads)."""
    if not hasattr(_local, "session"):
        http = requests.Session()
        adapter = HTTPAdapter(pool_connections=16, pool_maxsize=16, max_retries=0)
        http.mount("http://", adapter)
        http.mount("https://", adapter)
        http.headers["User-Agent"] = USER_AGENT
        # requests re-reads the whole environment (proxies, netrc, CA bundle) on every call: about
        # a millisecond per request here. Without proxy variables, read the CA bundle once instead.
        # Credentials always come from our settings, never from ~/.netrc.
        if not _proxy_configured():
            http.trust_env = False
            http.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        _local.session = http
    return _local.session


def prepare(method: str, url: str, *, body: bytes = b"", headers: dict[str, str]) -> requests.PreparedRequest:
    """The request as it will be sent; an invalid URL raises here, before anything is sent."""
    http = session()
    if http.trust_env:  # a proxy is configured: let requests merge the environment
        return http.prepare_request(requests.Request(method, url, data=body or None, headers=headers))
    prepared = requests.PreparedRequest()
    prepared.prepare(method=method, url=url, headers={"User-Agent": USER_AGENT, **headers}, data=body or None)
    return prepared


def send(prepared: requests.PreparedRequest, *, timeout: float, stream: bool = False) -> requests.Response:
    """Send on this thread's keep-alive session, never following redirects.

    Without proxy variables the request goes straight to the session's connection adapter: Session.send
    and prepare_request (cookies, hooks, environment, redirects: nothing the hub uses) cost about 230 µs
    of CPU per call, a quarter of a webhook delivery (docs/PERFORMANCE.md)."""
    http = session()
    if http.trust_env:
        return http.send(prepared, timeout=timeout, allow_redirects=False, stream=stream)
    return http.get_adapter(str(prepared.url)).send(prepared, timeout=timeout, stream=stream,
                                                    verify=True if http.verify is None else http.verify)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # str.isdigit() alone takes "²", which float() refuses
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
