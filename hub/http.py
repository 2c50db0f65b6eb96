"""Outbound HTTP shared by every client: one keep-alive session per thread on libcurl, Retry-After parsing.

Callers build a `requests.PreparedRequest` and get a `requests.Response` back, with requests' exceptions,
but the bytes go through `CurlAdapter` (pycurl): requests' own adapter (urllib3, then `http.client`,
whose header parsing runs through the `email` package) cost 600 µs of CPU per call against 190 µs
(docs/PERFORMANCE.md), a third of a webhook delivery from a backlog.
"""

import os
import threading
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import certifi
import pycurl
import requests
from requests import exceptions
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import check_header_validity, get_encoding_from_headers, select_proxy

from hub.internals import fill_response

USER_AGENT = "IntegrationHub/1.0"
# What a caller reads of an answer unless it says otherwise; the rest of a larger answer is not read
# (a hostile 128 MiB answer cost 264 MiB in the worker). A truncated answer is `truncated(response)`.
STREAMED_BYTES = 64 * 1024
_local = threading.local()
Timeout = float | tuple[float, float] | tuple[float, None] | None
Cert = bytes | str | tuple[bytes | str, bytes | str] | None

# curl sets these itself: Content-Length from the body; no Accept-Encoding, so answers come
# uncompressed (they are small, and nothing has to decode them); "Expect:" switches off the
# 100-continue round trip curl would make for bodies over 1 MiB.
_HEADERS_CURL_SETS = {"content-length", "accept-encoding", "expect"}
_TIMEOUTS = {pycurl.E_OPERATION_TIMEDOUT}
_CONNECTION_ERRORS = {pycurl.E_COULDNT_RESOLVE_HOST, pycurl.E_COULDNT_RESOLVE_PROXY, pycurl.E_COULDNT_CONNECT,
                      pycurl.E_GOT_NOTHING, pycurl.E_SEND_ERROR, pycurl.E_RECV_ERROR, pycurl.E_PARTIAL_FILE,
                      pycurl.E_FTP_WEIRD_SERVER_REPLY}  # 8: CURLE_WEIRD_SERVER_REPLY, under its old name
_TLS_ERRORS = {pycurl.E_SSL_CONNECT_ERROR, pycurl.E_PEER_FAILED_VERIFICATION, pycurl.E_SSL_CERTPROBLEM,
               pycurl.E_SSL_CIPHER, pycurl.E_SSL_CACERT_BADFILE, pycurl.E_SSL_ISSUER_ERROR}


class CappedResponse(requests.Response):
    truncated = False  # the answer was longer than what was read of it


class CurlAdapter(HTTPAdapter):
    """requests' transport on one libcurl handle, which keeps its connections alive between calls.
    Not thread-safe, like the session that holds it (one per thread). Redirects are never followed;
    the timeout bounds the whole call (connecting, sending, the answer), not each read."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)
        self._curl = pycurl.Curl()

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Timeout = None,
             verify: bool | str = True, cert: Cert = None, proxies: Mapping[str, str] | None = None,
             max_bytes: int = STREAMED_BYTES) -> requests.Response:
        curl, body, header_lines = self._curl, bytearray(), list[bytes]()
        curl.reset()  # options only: live connections and the DNS cache stay
        self._set_request(curl, request, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
        curl.setopt(pycurl.WRITEFUNCTION, _writer(body, max_bytes))
        curl.setopt(pycurl.HEADERFUNCTION, header_lines.append)
        try:
            curl.perform()
        except pycurl.error as error:
            code, message = int(error.args[0]), str(error.args[-1])
            if not (code == pycurl.E_WRITE_ERROR and len(body) >= max_bytes):  # not our own stop
                raise _requests_exception(code, message, request, connected=curl.getinfo(pycurl.CONNECT_TIME) > 0)
        return self._response(request, curl, body, header_lines, truncated=len(body) >= max_bytes)

    @staticmethod
    def _set_request(curl: pycurl.Curl, request: requests.PreparedRequest, *, timeout: Timeout, verify: bool | str,
                     cert: Cert, proxies: Mapping[str, str] | None) -> None:
        method, url, payload = request.method or "GET", str(request.url), request.body
        curl.setopt(pycurl.URL, url)
        curl.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        curl.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
        curl.setopt(pycurl.NOSIGNAL, 1)  # timeouts without SIGALRM: safe in threads
        if payload is not None or method == "POST":
            curl.setopt(pycurl.POSTFIELDS, payload.encode() if isinstance(payload, str) else bytes(payload or b""))
            if method != "POST":
                curl.setopt(pycurl.CUSTOMREQUEST, method)
        elif method == "HEAD":
            curl.setopt(pycurl.NOBODY, 1)
        elif method != "GET":
            curl.setopt(pycurl.CUSTOMREQUEST, method)
        curl.setopt(pycurl.HTTPHEADER, [f"{name}: {value}" for name, value in request.headers.items()
                                        if name.lower() not in _HEADERS_CURL_SETS] + ["Expect:"])
        connect, total = _connect_and_total(timeout)
        if connect is not None:
            curl.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(connect * 1000)))
        if total is not None:
            curl.setopt(pycurl.TIMEOUT_MS, max(1, int(total * 1000)))
        if url.startswith("https:"):
            _set_tls(curl, verify=verify, cert=cert)
        if proxy := select_proxy(url, dict(proxies or {})):
            curl.setopt(pycurl.PROXY, proxy)

    def _response(self, request: requests.PreparedRequest, curl: pycurl.Curl, body: bytearray,
                  header_lines: list[bytes], *, truncated: bool) -> requests.Response:
        response = CappedResponse()
        response.status_code = curl.getinfo(pycurl.RESPONSE_CODE)
        response.reason, response.headers = _parse_head(header_lines)
        response.encoding = get_encoding_from_headers(response.headers)
        fill_response(response, bytes(body))
        response.url, response.request, response.connection = str(request.url), request, self
        response.elapsed = timedelta(seconds=curl.getinfo(pycurl.TOTAL_TIME))
        response.truncated = truncated
        return response

    def close(self) -> None:
        self._curl.close()
        super().close()


def _writer(body: bytearray, cap: int) -> Callable[[bytes], int | None]:
    """Collects the answer's first `cap` bytes and stops reading there."""

    def write(chunk: bytes) -> int | None:
        body.extend(chunk[:cap - len(body)])
        return 0 if len(body) >= cap else None  # anything but len(chunk) or None ends the transfer

    return write


def _connect_and_total(timeout: Timeout) -> tuple[float | None, float | None]:
    """requests' timeout as curl's: (connect, read) lets the whole call take both."""
    if isinstance(timeout, tuple):
        connect, read = timeout
        return connect, None if read is None else connect + read
    return timeout, timeout


def _set_tls(curl: pycurl.Curl, *, verify: bool | str, cert: Cert) -> None:
    if verify is False:
        curl.setopt(pycurl.SSL_VERIFYPEER, 0)
        curl.setopt(pycurl.SSL_VERIFYHOST, 0)
    else:
        curl.setopt(pycurl.CAINFO, certifi.where() if verify is True else verify)
    if cert:
        certificate, key = cert if isinstance(cert, tuple) else (cert, None)
        curl.setopt(pycurl.SSLCERT, certificate)
        if key:
            curl.setopt(pycurl.SSLKEY, key)


def _parse_head(lines: list[bytes]) -> tuple[str, CaseInsensitiveDict[str]]:
    """The reason and headers of the last answer curl saw (a 100 Continue or a proxy's answer come first)."""
    reason, headers = "", CaseInsensitiveDict[str]()
    for raw in lines:
        line = raw.decode("latin-1").rstrip("\r\n")
        if line.startswith("HTTP/"):
            reason, headers = line.split(" ", 2)[2] if line.count(" ") >= 2 else "", CaseInsensitiveDict()
        elif ":" in line:
            name, _, value = line.partition(":")
            name, value = name.strip(), value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return reason, headers


def _requests_exception(code: int, message: str, request: requests.PreparedRequest, *,
                        connected: bool) -> exceptions.RequestException:
    text = f"{message} (curl error {code})"
    if code in _TIMEOUTS:
        return (exceptions.ReadTimeout if connected else exceptions.ConnectTimeout)(text, request=request)
    if code in _CONNECTION_ERRORS:
        return exceptions.ConnectionError(text, request=request)
    if code in _TLS_ERRORS:
        return exceptions.SSLError(text, request=request)
    if code == pycurl.E_UNSUPPORTED_PROTOCOL:
        return exceptions.InvalidSchema(text, request=request)
    if code == pycurl.E_URL_MALFORMAT:
        return exceptions.InvalidURL(text, request=request)
    return exceptions.RequestException(text, request=request)


def session() -> requests.Session:
    """This thread's session (requests.Session is not safe to share between threads). A forked child
    (gunicorn, Celery prefork) makes its own: sharing the parent's connections would mix answers."""
    if getattr(_local, "pid", None) != os.getpid():
        http = requests.Session()
        adapter = CurlAdapter()
        http.mount("http://", adapter)
        http.mount("https://", adapter)
        http.headers["User-Agent"] = USER_AGENT
        # libcurl reads the proxy variables itself; requests would re-read the whole environment
        # (proxies, netrc, CA bundle) on every call. Credentials always come from our settings, never ~/.netrc.
        http.trust_env = False
        http.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        _local.session, _local.pid = http, os.getpid()
    return _local.session


@lru_cache(maxsize=512)
def _prepared_url(url: str) -> str:
    """requests' preparation of a URL (scheme, host, IDNA, quoting; an invalid one raises), once per URL."""
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, None)
    return str(prepared.url)


class RefusedURL(exceptions.InvalidURL):
    """A URL the hub will not call: retrying cannot help (a permanent failure of that one message)."""


DOT_SEGMENTS = frozenset({".", ".."})


def segment(value: str, *, safe: str = "") -> str:
    """An outside id as exactly one path segment of a URL the hub builds: quoted (a "/" cannot add a
    segment), and refused when empty or a dot segment, which the HTTP client would resolve ("/orders/.."
    is "/"), so a call could reach another path with the hub's credentials. Raises RefusedURL."""
    if value in DOT_SEGMENTS or not value:
        raise RefusedURL(f"refused: {value!r} as a path segment")
    return quote(value, safe=safe)


def checked_url(url: str, *, origin: str | None = None) -> str:
    """The one check of every URL the hub calls: parsed and rebuilt from its parts; no control
    character or whitespace anywhere (the parser silently drops a tab or CR/LF inside a host, so
    what was checked would not be what is sent); no dot segment in its path (`segment`); http or https; with `origin` (a configured base
    URL), the same scheme (https stays https), host and port exactly. Raises RefusedURL."""
    if any(char.isspace() or unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} for char in url):
        raise RefusedURL(f"refused: {url!r} holds whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedURL(f"refused: {url!r} is not a URL ({exc})") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise RefusedURL(f"refused: {url!r} is not an http(s) URL with a host")
    if any(unquote(part) in DOT_SEGMENTS for part in parts.path.split("/")):
        raise RefusedURL(f"refused: {url!r} has a dot segment (its path is not the one it was built with)")
    if origin is not None:
        allowed = urlsplit(origin)
        if (parts.scheme, parts.hostname, port or _default_port(parts.scheme)) != (
                allowed.scheme, allowed.hostname, allowed.port or _default_port(allowed.scheme)):
            raise RefusedURL(f"refused: {url!r} is not on {allowed.scheme}://{allowed.netloc}")
    return urlunsplit(parts)


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def truncated(response: requests.Response) -> bool:
    """Whether the answer was longer than what was read of it (`send`'s max_bytes)."""
    return isinstance(response, CappedResponse) and response.truncated


def prepare(method: str, url: str, *, body: bytes = b"", headers: dict[str, str],
            origin: str | None = None) -> requests.PreparedRequest:
    """The request as it will be sent; a refused URL (`checked_url`, against `origin` when given) or an
    invalid header raises here, before anything is sent.
    requests' own checks of the URL and of each header, without the rest of `PreparedRequest.prepare`
    (cookies, auth and proxies read off the URL, hooks, Content-Length: curl does what applies): a
    quarter of its CPU, on every Operator call and every delivery."""
    prepared = requests.PreparedRequest()
    prepared.method, prepared.url, prepared.body = method.upper(), _prepared_url(checked_url(url, origin=origin)), body or None
    prepared.headers = CaseInsensitiveDict({"User-Agent": USER_AGENT, **headers})
    for header in prepared.headers.items():
        check_header_validity(header)
    return prepared


def send(prepared: requests.PreparedRequest, *, timeout: float, stream: bool = False,
         max_bytes: int = STREAMED_BYTES) -> requests.Response:
    """Send on this thread's keep-alive session, never following redirects. Straight to the connection
    adapter: Session.send (cookies, hooks, environment, redirects: nothing the hub uses) cost about 230 µs
    of CPU per call. The answer is read up to `max_bytes` (64 KiB unless a documented call needs more)."""
    http = session()
    adapter = http.get_adapter(str(prepared.url))
    assert isinstance(adapter, CurlAdapter), "session() mounts CurlAdapter"
    return adapter.send(prepared, timeout=timeout, stream=stream, max_bytes=max_bytes,
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
