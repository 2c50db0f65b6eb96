"""The hub's worker reads a request off the socket itself only to shed it (`hub.server.whole_request`): it
must find exactly where the request ends, or say it cannot and leave it to gunicorn's parser."""

import time
from collections import deque
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.http.parser import RequestParser
from gunicorn.workers.gthread import ThreadWorker
from hypothesis import example, given
from hypothesis import strategies as st

from hub.server import WholeRequest, Worker, whole_request

TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1, max_size=20)
RESERVED = {"content-length", "transfer-encoding", "expect", "connection"}
NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=20)
HEADERS = st.lists(st.tuples(NAMES.filter(lambda name: name.lower() not in RESERVED),
                             st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)),
                   max_size=8, unique_by=lambda header: header[0].lower())
PATHS = st.lists(TOKEN, max_size=4).map(lambda parts: "/" + "/".join(parts))


def build(method: str, path: str, query: str, version: str, headers: list[tuple[str, str]], body: bytes,
          close: bool) -> tuple[bytes, WholeRequest]:
    """The request's bytes, and what whole_request is to find in them."""
    lines = [f"{method} {path}{'?' + query if query else ''} HTTP/{version}",
             *(f"{name}: {value}" for name, value in headers), f"Content-Length: {len(body)}"]
    if close:
        lines.append("Connection: close")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    return raw, WholeRequest(path=path, length=len(raw), keep_alive=version == "1.1" and not close)


REQUESTS = st.builds(build, method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]), path=PATHS,
                     query=st.text(alphabet="abc=&1", max_size=10), version=st.sampled_from(["1.0", "1.1"]),
                     headers=HEADERS, body=st.binary(max_size=300), close=st.booleans())


@given(request=REQUESTS, pipelined=st.binary(max_size=200))
def test_a_whole_request_is_found_to_its_last_byte_whatever_follows(request, pipelined):
    raw, expected = request
    assert whole_request(raw + pipelined) == expected


@given(request=REQUESTS, data=st.data())
def test_a_request_not_all_arrived_is_left_to_the_parser(request, data):
    raw, _ = request
    assert whole_request(raw[:data.draw(st.integers(0, len(raw) - 1))]) is None


@given(request=REQUESTS, header=st.sampled_from([b"Transfer-Encoding: chunked", b"Expect: 100-continue",
                                                  b"Content-Length: 0", b"No-Colon x", b" folded"]))
def test_a_request_whose_end_is_not_plain_is_left_to_the_parser(request, header):
    raw, _ = request
    line_end = raw.index(b"\r\n") + 2
    assert whole_request(raw[:line_end] + header + b"\r\n" + raw[line_end:]) is None


@given(garbage=st.binary(max_size=300))
def test_bytes_that_are_not_a_request_line_are_left_to_the_parser(garbage):
    assert whole_request(b"\x16\x03\x01" + garbage) is None  # a TLS hello, say


def gunicorn_reads(data: bytes) -> tuple[int, str, bool] | None:
    """Where gunicorn's own parser ends the first request in `data`, its path and whether it closes the
    connection after it; None when it refuses the request (400, connection closed)."""
    parser = RequestParser(Config(), iter([data]), ("127.0.0.1", 40000))
    try:
        request = next(parser)
        request.body.read()
    except Exception:  # every refusal: InvalidHeader, ObsoleteFolding, LimitRequestLine, NoMoreData...
        return None
    return len(data) - len(parser.unreader.buf.getvalue()), request.path, request.should_close()


HOSTILE_PIECES = st.sampled_from([
    b"\r", b"\n", b"\r\n", b"\r\n\r\n", b" ", b"\t", b"\x00", b":", b"_", b"\x7f", b"\xff", b"5", b"a",
    b"Content-Length: 5", b"Content-Length: 0", b"Content-Length:", b"Content-length: 05", b"Transfer-Encoding: chunked",
    b"Connection: close", b"Connection: keep-alive", b"X-Forwarded-Proto: https", b"X-Forwarded-Ssl: off",
    b"Host: a", b"X_Pad: a", b"GET / HTTP/1.1", b"HTTP/1.0", b"?", b"#"])
HEADS = st.lists(st.one_of(HOSTILE_PIECES, st.binary(max_size=6)), max_size=30).map(b"".join)


@given(line=st.sampled_from([b"GET / HTTP/1.1\r\n", b"POST /wallet/debit HTTP/1.1\r\n", b"GET /a?b HTTP/1.0\r\n", b""]),
       head=HEADS, body=st.binary(max_size=80))
@example(line=b"POST /wallet/debit HTTP/1.1\r\n", head=b"X-Pad: a\nContent-Length: 5", body=b"GET /admin/ HTTP/1.1\r\n\r\n")
@example(line=b"GET / HTTP/1.1\r\n", head=b"X-Pad: a\rContent-Length: 5", body=b"abcdeGET / HTTP/1.1\r\n\r\n")
@example(line=b"GET / HTTP/1.1\r\n", head=b"X-Pad: a\r\n Content-Length: 5", body=b"abcde")
@example(line=b"GET / HTTP/1.1\r\n", head=b"Content-Length: 5\r\nContent-Length: 0", body=b"abcde")
def test_the_shed_path_ends_a_request_where_gunicorn_does_or_leaves_it_to_the_parser(line, head, body):
    """S1: the main thread's reading is a subset of gunicorn's. Whatever the bytes, whole_request finds the
    end gunicorn's parser finds (and keeps alive only what gunicorn keeps alive), or says None."""
    data = line + head + b"\r\n\r\n" + body
    found = whole_request(data)
    if found is not None:
        length, path, closes = gunicorn_reads(data) or (None, None, None)
        assert (length, path) == (found.length, found.path)
        assert not (found.keep_alive and closes)


@given(request=REQUESTS, piece=HOSTILE_PIECES, data=st.data())
def test_a_hostile_piece_anywhere_in_a_plain_request_never_desyncs(request, piece, data):
    raw, _ = request
    at = data.draw(st.integers(0, len(raw)))
    changed = raw[:at] + piece + raw[at:]
    found = whole_request(changed)
    if found is not None:
        assert gunicorn_reads(changed)[:2] == (found.length, found.path)


@given(request=REQUESTS)
def test_every_plain_request_is_read_as_gunicorn_reads_it(request):
    raw, expected = request
    assert gunicorn_reads(raw) == (expected.length, expected.path, not expected.keep_alive)


@given(request=REQUESTS, separator=st.sampled_from([b"\n", b"\r"]), data=st.data())
def test_a_bare_cr_or_lf_in_the_head_leaves_the_request_to_the_parser(request, separator, data):
    """The campaign's example: `X-Pad: a\\nContent-Length: 40` hid the body from the shed path."""
    raw, _ = request
    head_end = raw.index(b"\r\n\r\n")
    at = data.draw(st.integers(0, head_end))
    assert whole_request(raw[:at] + separator + raw[at:]) is None


class Conn:
    def __init__(self, name: str, queued_at: float) -> None:
        self.name, self.hub_queued_at = name, queued_at


def queue_of(monkeypatch, *, free_threads: int, last_shed: float) -> tuple[Worker, list[str]]:
    """A worker of two threads with requests a, b, c waiting, oldest first: what it hands the pool is
    recorded, not run."""
    handed: list[str] = []
    monkeypatch.setattr(ThreadWorker, "enqueue_req", lambda worker, conn: handed.append(conn.name))
    worker = Worker.__new__(Worker)
    worker.cfg = SimpleNamespace(threads=2)
    now = time.monotonic()
    worker.hub_waiting = deque(Conn(name, now - 0.1 + n * 0.01) for n, name in enumerate("abc"))
    worker.hub_in_pool, worker.hub_queue_timeout, worker.hub_last_shed = 2 - free_threads, 0.25, last_shed
    return worker, handed


def test_the_queue_is_first_come_first_served_while_nothing_is_shed(monkeypatch):
    worker, handed = queue_of(monkeypatch, free_threads=2, last_shed=time.monotonic() - 10)
    worker._admit()
    assert (handed, [conn.name for conn in worker.hub_waiting]) == (["a", "b"], ["c"])


def test_while_the_queue_sheds_the_newest_request_gets_the_free_thread(monkeypatch):
    """Adaptive LIFO: the oldest are about to be shed anyway; the newest is served at its usual latency."""
    worker, handed = queue_of(monkeypatch, free_threads=1, last_shed=time.monotonic() - 0.05)
    worker._admit()
    assert (handed, [conn.name for conn in worker.hub_waiting]) == (["c"], ["a", "b"])
