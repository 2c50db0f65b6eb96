"""The hub's worker reads a request off the socket itself only to shed it (`hub.server.whole_request`): it
must find exactly where the request ends, or say it cannot and leave it to gunicorn's parser."""

import time
from collections import deque
from types import SimpleNamespace

from gunicorn.workers.gthread import ThreadWorker
from hypothesis import given
from hypothesis import strategies as st

from hub.server import WholeRequest, Worker, whole_request

TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1, max_size=20)
RESERVED = {"content-length", "transfer-encoding", "expect", "connection"}
HEADERS = st.lists(st.tuples(TOKEN.filter(lambda name: name.lower() not in RESERVED),
                             st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)),
                   max_size=8)
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
