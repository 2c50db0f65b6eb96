"""The hub's gunicorn worker (`worker_class` in hub/gunicorn_conf.py): gunicorn's gthread worker, which
measures how long each request waited for a thread, sheds the ones that waited too long
(`hub.admission`), and answers them even while every thread is busy.

Where a request waits under overload, measured with the bench's overload phase: gthread's main thread
accepts every connection at once (up to `worker_connections`, 1,000) and hands each readable one to its
thread pool, whose queue is unbounded; PostgreSQL connections are one per thread, so nothing waits for
them. So the wait is the thread pool's queue, and that is where it is measured: from the moment gunicorn
submits the connection to the pool to the moment a thread takes it.

A request is shed in one of two places: in `handle_request` when a thread takes it (under load, threads
free up every few milliseconds; gunicorn has parsed the request, and the prebuilt answer is written
without a WSGI request), or, when no thread has taken a request for HUB_QUEUE_TIMEOUT_MS because every
one is held by slow work (an Operator timing out), by this worker's watchdog, which answers it from the
queue itself: it peeks at the request line, leaves health and metrics alone, writes the 503 with
`Connection: close`, and the thread that later takes the connection only closes it.
"""

import socket
import threading
import time
from collections import deque
from typing import Any

from django.conf import settings
from gunicorn.workers.gthread import ThreadWorker

from hub import admission

QUEUED, TAKEN, SHED = "queued", "taken", "shed"
WATCH_EVERY_SECONDS = 0.025


class Worker(ThreadWorker):
    def init_process(self) -> None:
        self.hub_lock = threading.Lock()
        self.hub_waiting: deque[Any] = deque()
        self.hub_last_taken = time.monotonic()
        if not self.cfg.is_ssl:  # the watchdog reads the request line off the socket
            threading.Thread(target=self._watch_queue, name="hub-admission", daemon=True).start()
        super().init_process()  # runs the worker until it exits

    def enqueue_req(self, conn: Any) -> None:
        conn.hub_queued_at, conn.hub_state = time.monotonic(), QUEUED
        with self.hub_lock:
            self.hub_waiting.append(conn)
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        """A pool thread takes the connection (`enqueue_req` queued and stamped it)."""
        with self.hub_lock:
            if conn.hub_state == SHED:
                return False  # answered from the queue: close it
            conn.hub_state = TAKEN
            self.hub_last_taken = now = time.monotonic()
        admission.waited(now - conn.hub_queued_at)
        return super().handle(conn)

    def handle_request(self, req: Any, conn: Any) -> bool:
        """gunicorn parsed the request; shed it here if it waited too long (the unread rest of its body is
        skipped by the parser before the next request on the connection)."""
        if not admission.waited_too_long(req.path or ""):
            return super().handle_request(req, conn)
        keep_alive = (self.alive and bool(self.cfg.keepalive) and not req.should_close()
                      and len(self.keepalived_conns) < self.max_keepalived)
        conn.sock.sendall(admission.shed_answer_bytes(keep_alive=keep_alive))
        admission.count_shed(req.path or "")
        return keep_alive

    def _watch_queue(self) -> None:
        while True:
            time.sleep(WATCH_EVERY_SECONDS)
            try:
                for conn in self._overdue():
                    self._shed_from_queue(conn)
            except Exception:  # noqa: BLE001 - the watchdog must outlive one bad connection
                self.log.exception("admission watchdog")

    def _overdue(self) -> list[Any]:
        """The queued requests past their time, while no thread has taken any for as long: threads that
        move shed them as they take them (cheaper, and the connection stays open), so the watchdog only
        answers for threads that are all held."""
        limit = settings.HUB_QUEUE_TIMEOUT_MS / 1000
        now = time.monotonic()
        with self.hub_lock:
            while self.hub_waiting and self.hub_waiting[0].hub_state != QUEUED:
                self.hub_waiting.popleft()
            if now - self.hub_last_taken <= limit:
                return []
            overdue = []
            for conn in self.hub_waiting:  # oldest first
                if now - conn.hub_queued_at <= limit:
                    break
                if conn.hub_state == QUEUED:
                    overdue.append(conn)
            return overdue

    def _shed_from_queue(self, conn: Any) -> None:
        try:
            head = conn.sock.recv(2048, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except OSError:
            return  # nothing to read yet, or read ahead by the parser: the thread that takes it decides
        line = head.split(b"\r\n", 1)
        if len(line) < 2:
            return
        parts = line[0].decode("latin-1").split(" ")
        # a request line, not the middle of one whose start the parser already read (keep-alive read-ahead)
        path = parts[1].split("?", 1)[0] if len(parts) == 3 and parts[2].startswith("HTTP/1.") else ""
        if not path.startswith("/") or admission.exempt(path):
            return
        with self.hub_lock:
            if conn.hub_state != QUEUED:
                return  # a thread took it meanwhile
            conn.hub_state = SHED
        try:
            conn.sock.send(admission.shed_answer_bytes(keep_alive=False))
        except OSError:
            pass  # the client left; the thread that takes the connection closes it
        admission.count_shed(path)
