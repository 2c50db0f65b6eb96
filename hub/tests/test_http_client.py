"""hub.http's transport (CurlAdapter) against a real HTTP/1.1 server on loopback."""

import os
import threading
import time
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from hub import http
from hub.testing import free_port

BIG_ANSWER_BYTES = 20 * 1024 * 1024


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    seen: list[dict] = []
    connections: set[int] = set()

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Recorder.connections.add(self.client_address[1])
        Recorder.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
        if self.path == "/slow":
            time.sleep(2)
        if self.path == "/big":
            self.send_response(200)
            self.send_header("Content-Length", str(BIG_ANSWER_BYTES))
            self.end_headers()
            for _ in range(BIG_ANSWER_BYTES // 65536):
                self.wfile.write(b"x" * 65536)
            return
        answer = b"" if self.command == "HEAD" else b'{"ok": true}'
        self.send_response(302 if self.path == "/moved" else 429 if self.path == "/busy" else 201, "Made It")
        self.send_header("Content-Type", "application/json")
        self.send_header("Retry-After", "7")
        self.send_header("X-Twice", "one")
        self.send_header("X-Twice", "two")
        if self.path == "/moved":
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.seen, Recorder.connections = [], set()
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Recorder)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def call(method: str, url: str, *, body: bytes = b"", timeout: float = 5, stream: bool = False, **headers: str):
    return http.send(http.prepare(method, url, body=body, headers=headers), timeout=timeout, stream=stream)


def test_the_request_arrives_as_built_and_the_answer_comes_back_whole(server):
    body = b"{}" + b" " * 1_100_000  # curl asks "Expect: 100-continue" above 1 MiB unless told not to

    response = call("POST", f"{server}/wallet?x=1", body=body, **{"Content-Type": "application/json", "X-Key": "k"})

    [seen] = Recorder.seen
    assert (seen["method"], seen["path"], seen["body"]) == ("POST", "/wallet?x=1", body)
    assert seen["headers"]["X-Key"] == "k" and seen["headers"]["User-Agent"] == http.USER_AGENT
    assert seen["headers"]["Content-Length"] == str(len(body)) and "Expect" not in seen["headers"]
    assert "Accept-Encoding" not in seen["headers"]
    assert (response.status_code, response.reason, response.json()) == (201, "Made It", {"ok": True})
    assert response.headers["retry-after"] == "7" and response.headers["X-Twice"] == "one, two"
    assert response.encoding == "utf-8" and response.url == f"{server}/wallet?x=1"


@pytest.mark.parametrize(("method", "body"), [("GET", b""), ("PUT", b"put"), ("DELETE", b""), ("HEAD", b""),
                                              ("POST", b"")])
def test_every_method_is_sent_as_itself(server, method, body):
    response = call(method, f"{server}/thing", body=body)

    [seen] = Recorder.seen
    assert (seen["method"], seen["body"], response.status_code) == (method, body, 201)
    assert response.content == (b"" if method == "HEAD" else b'{"ok": true}')


def test_calls_from_one_thread_share_one_kept_alive_connection(server):
    for _ in range(5):
        call("POST", f"{server}/again", body=b"{}")

    assert len(Recorder.seen) == 5 and len(Recorder.connections) == 1


def test_a_slow_answer_times_out_after_the_timeout(server):
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        call("GET", f"{server}/slow", timeout=0.3)
    assert time.monotonic() - started < 1.5


def test_a_closed_port_is_a_connection_error():
    with pytest.raises(requests.ConnectionError):
        call("POST", f"http://127.0.0.1:{free_port()}/nobody", body=b"{}")


def test_redirects_are_not_followed(server):
    response = call("POST", f"{server}/moved", body=b"{}")

    assert (response.status_code, response.headers["Location"], len(Recorder.seen)) == (302, "/elsewhere", 1)


@pytest.mark.parametrize("stream", [True, False])
def test_every_answer_is_read_only_up_to_the_cap(server, stream):
    response = call("GET", f"{server}/big", stream=stream)

    with response:
        first = next(response.iter_content(1000))
    assert (response.status_code, len(response.content), first) == (200, http.STREAMED_BYTES, b"x" * 1000)
    assert http.truncated(response)


def test_a_call_that_needs_more_says_so_and_a_short_answer_is_whole(server):
    more = http.send(http.prepare("GET", f"{server}/big", headers={}), timeout=5, max_bytes=1024 * 1024)
    short = call("GET", f"{server}/x")

    assert len(more.content) == 1024 * 1024 and http.truncated(more)
    assert short.content == b'{"ok": true}' and not http.truncated(short)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1\t.evil/x", "http://127.0.0.1\r\n.evil/x", "http://exa mple.com/x",
    "http://example.com/a b", "http://example.com/\x00", "http://example.com/\u2028", "http://example.com:99999/",
    "http:///x", "javascript:alert(1)",
])
def test_a_url_with_whitespace_or_control_characters_anywhere_is_refused_before_sending(server, url):
    with pytest.raises(http.RefusedURL):
        call("GET", url)
    assert Recorder.seen == []


@pytest.mark.parametrize("url, origin, allowed", [
    ("https://mw.example/v2/x", "https://mw.example", True),
    ("https://mw.example:443/v2/x", "https://mw.example", True),
    ("http://mw.example/v2/x", "https://mw.example", False),  # the bearer would travel in clear text
    ("https://mw.example:8443/v2/x", "https://mw.example", False),
    ("https://mw.example.evil/v2/x", "https://mw.example", False),
    ("https://user@evil/v2/x", "https://mw.example", False),
    ("HTTPS://MW.EXAMPLE/v2/x", "https://mw.example", True),
])
def test_with_an_origin_the_scheme_host_and_port_must_match_exactly(url, origin, allowed):
    if allowed:
        assert http.checked_url(url, origin=origin)
    else:
        with pytest.raises(http.RefusedURL):
            http.checked_url(url, origin=origin)


def test_the_retry_after_of_a_refusal_is_readable(server):
    response = call("POST", f"{server}/busy", body=b"{}")

    assert (response.status_code, http.parse_retry_after(response.headers.get("Retry-After"))) == (429, 7.0)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://127.0.0.1/x", "ftp://127.0.0.1/x"])
def test_only_http_and_https_are_spoken(url):
    with pytest.raises(http.RefusedURL):
        call("GET", url)


def test_a_header_that_would_split_the_request_is_refused_before_sending(server):
    with pytest.raises(requests.exceptions.InvalidHeader):
        call("POST", f"{server}/x", **{"X-Injected": "a\r\nX-Other: b"})
    assert Recorder.seen == []


def test_a_forked_child_does_not_share_the_parents_connections(server):
    call("GET", f"{server}/parent")
    parent_session = http.session()
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            fresh = http.session() is not parent_session and call("GET", f"{server}/child").status_code == 201
            os.write(writing, b"1" if fresh else b"0")
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    assert os.read(reading, 1) == b"1"
    assert http.session() is parent_session and len(Recorder.connections) == 2


def test_https_to_a_server_that_speaks_no_tls_is_a_tls_error(server):
    with pytest.raises(requests.exceptions.SSLError):
        call("GET", server.replace("http://", "https://"))


@pytest.mark.parametrize("url", ["http://example.com/v2/eats/order/..", "http://example.com/order/v1/orders/./accept",
                                 "http://example.com/a/%2e%2e/b", "http://example.com/a/%2E/b", "http://example.com/.."])
def test_a_url_with_a_dot_segment_is_refused_before_sending(server, url):
    """U1: the client would resolve it ("/orders/.." is "/"): the call would reach another path with the
    hub's credentials."""
    with pytest.raises(http.RefusedURL):
        call("GET", url)
    assert Recorder.seen == []


@given(value=st.text(max_size=30))
def test_an_id_is_one_path_segment_whatever_it_holds_or_is_refused(value):
    """Every adapter builds its URLs with http.segment: the path keeps the shape it was built with."""
    try:
        built = http.checked_url(f"http://example.com/orders/{http.segment(value)}/accept")
    except http.RefusedURL:
        assert value in {"", ".", ".."}
        return
    parts = urlsplit(built).path.split("/")
    assert (len(parts), parts[1], parts[3], unquote(parts[2])) == (4, "orders", "accept", value)
