"""The hub's gunicorn worker (`worker_class` in hub/gunicorn_conf.py): gunicorn's gthread worker with a
queue of its own in front of the thread pool, as HAProxy's `maxconn` + `timeout queue`: at most as many
requests as it has threads are handed to the pool, the others wait in the main thread's queue, and one
that waited HUB_QUEUE_TIMEOUT_MS there is answered 503 OVERLOADED by the main thread (`hub.admission`).

Where a request waits under overload, measured with the bench's overload phase: gthread's main thread
accepts every connection at once (up to `worker_connections`, 1,000) and hands each readable one to its
thread pool, whose queue is unbounded; PostgreSQL connections are one per thread, so nothing waits for
them. So the wait was the thread pool's queue; this worker keeps it in the main thread instead, where a
request is cheapest to answer: a shed there is one read of the socket, the end of the request found
(`whole_request`) and the prebuilt answer written (tens of microseconds), with no thread, no HTTP parser,
and the connection kept alive. Under a retry storm that ignores Retry-After that cost is what bounds the goodput (the
first version shed in the pool's threads, each shed a pass through the pool and gunicorn's parser:
docs/PERFORMANCE.md, "Shed, don't queue"). The main thread sheds whether the threads are busy with
quick requests or all held by slow work (an Operator timing out): its poll loop wakes when the oldest
request's time is up. While it sheds, a free thread takes the newest request waiting, not the oldest
(adaptive LIFO, `_admit`).

A request the main thread cannot answer on its own (its bytes not all arrived, a chunked body, a second
request behind it, TLS, bytes gunicorn's parser has read ahead) goes to the pool as any other, with the
bytes read given back to gunicorn's parser: the thread that takes it sheds it in `handle_request`. So do
health checks and metrics, which are never shed.
"""

import re
import selectors
import socket
import time
from collections import deque
from functools import partial
from typing import Any, NamedTuple

from django.conf import settings
from gunicorn.workers.gthread import ThreadWorker

from hub import admission

LARGEST_SHED_IN_MAIN_THREAD = 64 * 1024  # bytes of a request; a larger one is shed by a thread
# What the main thread reads itself is a strict subset of what gunicorn's parser accepts, so that the two can
# never find different ends of a request (a desync would let a body be served as a request of its own):
# origin-form targets of visible ASCII, field names that are tokens without "_" (gunicorn drops those), values
# of visible ASCII, spaces and tabs, each line ended by CRLF (a bare CR or LF is in neither pattern), no
# obs-fold, each field name once, a head within gunicorn's smallest default limits. Anything else is read by
# gunicorn's parser in a thread, which refuses it (400, connection closed) or sheds it.
REQUEST_LINE = re.compile(rb"[A-Z]{3,20} (/[\x21\x22\x24-\x7e]*) HTTP/1\.([01])")  # no "#": no fragment
FIELD = re.compile(rb"([!#$%&'*+\-.^`|~0-9A-Za-z]+):[ \t]*([\x20-\x7e\t]*?)[ \t]*")
LARGEST_HEAD = 4094  # gunicorn's limit_request_line; its limit_request_field_size is 8190
MOST_FIELDS = 64  # gunicorn's limit_request_fields is 100
LEFT_TO_THE_PARSER = frozenset({b"transfer-encoding", b"expect"})
# gunicorn refuses two of these that disagree (InvalidSchemeHeaders): more than one goes to the parser
SCHEME_FIELDS = frozenset({b"x-forwarded-proto", b"x-forwarded-protocol", b"x-forwarded-ssl"})


class WholeRequest(NamedTuple):
    path: str
    length: int  # bytes on the socket, head and body
    keep_alive: bool


def whole_request(data: bytes) -> WholeRequest | None:
    """The request at the start of `data` if all of it is there, it is plain and well-formed, and its length
    is a single Content-Length or none; None when only gunicorn's parser should read it."""
    head_end = data.find(b"\r\n\r\n", 0, LARGEST_HEAD + 4)
    if head_end < 0:
        return None
    request_line, *fields = data[:head_end].split(b"\r\n")
    line = REQUEST_LINE.fullmatch(request_line)
    if line is None or len(fields) > MOST_FIELDS:
        return None
    seen: set[bytes] = set()
    length = 0
    keep_alive = line[2] == b"1"
    for field in fields:
        match = FIELD.fullmatch(field)
        if match is None:
            return None
        name, value = match[1].lower(), match[2]
        if name in seen or name in LEFT_TO_THE_PARSER or (name in SCHEME_FIELDS and seen & SCHEME_FIELDS):
            return None
        seen.add(name)
        if name == b"content-length":
            if not value.isdigit():
                return None
            length = int(value)
        elif name == b"connection" and value.lower() != b"keep-alive":
            keep_alive = False  # gunicorn keeps a connection open on "keep-alive" alone
    total = head_end + 4 + length
    if len(data) < total:
        return None
    return WholeRequest(line[1].split(b"?", 1)[0].decode("ascii"), total, keep_alive)


def _has_bytes(sock: socket.socket) -> bool:
    try:
        sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return False
    except OSError:
        pass  # the thread that takes it closes it
    return True


class Worker(ThreadWorker):
    """All of the queue's bookkeeping runs in the main thread, as gthread's own: no lock."""

    def init_process(self) -> None:
        self.hub_waiting: deque[Any] = deque()  # connections with a request, oldest first
        self.hub_in_pool = 0
        self.hub_last_shed = -1e9
        self.hub_queue_timeout = settings.HUB_QUEUE_TIMEOUT_MS / 1000
        super().init_process()  # runs the worker until it exits

    def accept(self, listener: Any) -> None:
        """Up to `threads` new connections per wake-up, not gthread's one: while the threads are busy the
        main thread waits for the GIL at each wake-up, and 500 callers connecting at once waited half a
        second to be accepted. Not all at once either, so that the other workers get their share."""
        for _ in range(self.cfg.threads):
            accepted = self.nr_conns
            super().accept(listener)
            if self.nr_conns == accepted or self.nr_conns >= self.worker_connections:
                return

    def enqueue_req(self, conn: Any) -> None:
        """A connection has a request: it waits its turn for a thread."""
        if not conn.initialized and not conn.data_ready and not _has_bytes(conn.sock):
            self._wait_for_first_bytes(conn)
            return
        conn.hub_queued_at = time.monotonic()
        self.hub_waiting.append(conn)
        self._admit()

    def _wait_for_first_bytes(self, conn: Any) -> None:
        """A connection accepted before its caller sent anything waits in the poller, as gthread's deferred
        ones do (`on_pending_socket_readable`, closed after `keepalive` seconds with nothing), not in a thread:
        gthread gives it a thread for up to 5 s, and here it would take one of the few the queue hands out."""
        conn.timeout = time.monotonic() + self.cfg.keepalive  # as gthread's: pending_conns stays in timeout order
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn))

    def _admit(self) -> None:
        """Oldest first; newest first while the queue sheds (adaptive LIFO, as in Facebook's "Fail at
        Scale"): under overload the oldest requests are shed anyway, and serving the newest keeps the
        admitted ones at their normal latency instead of HUB_QUEUE_TIMEOUT_MS more. A burst the threads
        drain in time sheds nothing, and stays first come, first served."""
        shedding = time.monotonic() - self.hub_last_shed < self.hub_queue_timeout
        take = self.hub_waiting.pop if shedding else self.hub_waiting.popleft
        while self.hub_waiting and self.hub_in_pool < self.cfg.threads:
            self._to_pool(take())

    def _to_pool(self, conn: Any) -> None:
        """A thread is free for the request: its wait ends here."""
        conn.hub_waited = time.monotonic() - conn.hub_queued_at
        self.hub_in_pool += 1
        super().enqueue_req(conn)

    def finish_request(self, conn: Any, fs: Any) -> None:
        """A thread is done with the connection: the next request waiting gets it. (A thread that is done
        idles until the main thread gets here, 2-4 ms on average under load: taking the next request in
        the thread itself measured worse, as the main thread then got the GIL less often and shed up to
        250 ms late, and no more goodput, the process being bound by the GIL anyway.)"""
        self.hub_in_pool -= 1
        super().finish_request(conn, fs)
        self._admit()

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        if self.hub_waiting:  # wake when the oldest request's time is up
            due = self.hub_waiting[0].hub_queued_at + self.hub_queue_timeout - time.monotonic()
            timeout = min(timeout, max(0.0, due))
        super().wait_for_and_dispatch_events(timeout)
        overdue = time.monotonic() - self.hub_queue_timeout
        while self.hub_waiting and self.hub_waiting[0].hub_queued_at < overdue:
            self.hub_last_shed = time.monotonic()
            self._shed(self.hub_waiting.popleft())

    def handle_request(self, req: Any, conn: Any) -> bool:
        """gunicorn parsed the request; shed it here if it waited too long (a request the main thread left
        to a thread; the unread rest of its body is skipped before the next request on the connection)."""
        if not admission.waited_too_long(req.path or "", conn.hub_waited):
            return super().handle_request(req, conn)
        keep_alive = self._may_keep_alive() and not req.should_close()
        conn.sock.sendall(admission.shed_answer_bytes(keep_alive=keep_alive))
        admission.count_shed(req.path or "")
        return keep_alive

    def _may_keep_alive(self) -> bool:
        return self.alive and bool(self.cfg.keepalive) and len(self.keepalived_conns) < self.max_keepalived

    def _shed(self, conn: Any) -> None:
        """The main thread answers a request that waited too long, if it can read all of it: one read, as
        each call into the kernel hands the GIL to a busy thread and waits to get it back."""
        data = self._read_waiting_bytes(conn)
        request = whole_request(data) if data else None
        if request is None or request.length != len(data) or admission.exempt(request.path):
            if data:
                conn.init()  # HTTP/1 in clear (see _read_waiting_bytes): makes the parser, no I/O
                conn.parser.unreader.unread(data)  # the thread's parser reads them first
            self._to_pool(conn)  # beyond the threads: the thread that takes it sheds it, or serves health
            return
        keep_alive = request.keep_alive and self._may_keep_alive()
        answer = admission.shed_answer_bytes(keep_alive=keep_alive)
        try:
            answered = conn.sock.send(answer, socket.MSG_DONTWAIT) == len(answer)
        except OSError:
            answered = False
        if answered:
            admission.count_shed(request.path)
        if answered and keep_alive:
            conn.set_timeout()  # kept alive, as gthread's finish_request does
            self.keepalived_conns.append(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn))
        else:
            self.nr_conns -= 1
            conn.close()

    def _read_waiting_bytes(self, conn: Any) -> bytes:
        """What the caller sent, when this thread may read it: not encrypted, not an HTTP/2 preface
        gunicorn would look for, nothing read ahead by the parser (b'' otherwise, or at end of stream)."""
        if self.cfg.is_ssl or self.cfg.http2_cleartext != "off":
            return b""
        if conn.parser is not None and conn.parser.unreader.buf.getvalue():
            return b""
        try:
            return conn.sock.recv(LARGEST_SHED_IN_MAIN_THREAD, socket.MSG_DONTWAIT)
        except OSError:
            return b""
