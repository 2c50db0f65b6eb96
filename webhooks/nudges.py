"""After-commit wake-ups of the outbox dispatchers, sent off the request thread and coalesced.

A committed message's id goes into a process-local queue, and one daemon thread per process turns
the queue into wake-ups: one `NOTIFY hub_outbox` on the thread's own connection, which wakes the
dispatchers (`webhooks.dispatcher`), the outbox's one delivery trigger. A nudge waits LINGER_SECONDS
for company before it leaves, and the nudges that arrive meanwhile or while it is sent share it.

The database stays the source of truth: a nudge lost with its process (killed before the send)
is made up for by the dispatchers' idle wake-up and beat's sweep (OUTBOX_SWEEP_SECONDS).
"""

import atexit
import os
import threading
import time
from collections import deque
from collections.abc import Callable

import structlog
from django.db import connection

from hub.db import between_units_of_work

logger = structlog.get_logger(__name__)

MAX_IDS_PER_SEND = 10_000
# Long enough for the commits of a busy moment to share a NOTIFY, short against a delivery's latency.
LINGER_SECONDS = 0.010


class NudgeSender:
    """Coalesces message ids into calls of `send(ids)` on a background thread."""

    def __init__(self, send: Callable[[list[int]], None], *, linger_seconds: float = 0.0,
                 max_batch: int = MAX_IDS_PER_SEND) -> None:
        self._send = send
        self._linger_seconds = linger_seconds
        self._max_batch = max_batch
        self._pending: deque[int] = deque()
        self._wake = threading.Event()
        self._started_in_pid: int | None = None
        self._start_lock = threading.Lock()

    def nudge(self, message_id: int = 0) -> None:
        self._ensure_thread()
        self._pending.append(message_id)
        self._wake.set()

    def flush(self) -> None:
        """Send everything queued now, on the calling thread (also used at exit)."""
        while batch := self._take_batch():
            try:
                self._send(batch)
            except Exception:  # broker down: the rows are safe, the sweep delivers them
                logger.warning("outbox_nudge_failed", message_ids=batch[:10], count=len(batch), exc_info=True)

    def _take_batch(self) -> list[int]:
        batch: list[int] = []
        while len(batch) < self._max_batch:
            try:
                batch.append(self._pending.popleft())
            except IndexError:
                break
        return batch

    def _ensure_thread(self) -> None:
        # A forked child (gunicorn, Celery prefork) inherits the object but not the thread.
        if self._started_in_pid == os.getpid():
            return
        with self._start_lock:
            if self._started_in_pid == os.getpid():
                return
            self._pending.clear()  # the parent's ids are the parent's to send
            threading.Thread(target=self._run, name="outbox-nudges", daemon=True).start()
            self._started_in_pid = os.getpid()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._linger_seconds:
                time.sleep(self._linger_seconds)
            self._wake.clear()  # before flushing: a nudge arriving during the flush wakes us again
            self.flush()


NOTIFY_CHANNEL = "hub_outbox"


def _notify_dispatchers(message_ids: list[int]) -> None:
    """One NOTIFY for every nudge of the linger, on this thread's own connection,
    after the commits. A NOTIFY inside the writing transaction (an insert trigger did it until migration
    0007) takes PostgreSQL's global notify lock at every commit: commits queue behind each other."""
    try:
        between_units_of_work()  # a thread of its own, which no request starts: DEBUG logged every NOTIFY
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {NOTIFY_CHANNEL}")
    except Exception:
        connection.close()  # reconnect next time; the dispatchers' idle wake-up delivers meanwhile
        raise


class NoTrigger:
    """Nudges nothing (benchmarks that deliver on their own)."""

    def nudge(self, message_id: int = 0) -> None:
        pass

    def flush(self) -> None:
        pass


_trigger: NudgeSender | NoTrigger | None = None


def install_trigger(sender: NudgeSender | NoTrigger | None = None) -> NudgeSender | NoTrigger:
    """Build the process's delivery trigger at startup (WebhooksConfig.ready), or put `sender` in its
    place (tests). Whatever it still holds is sent when the process exits."""
    global _trigger
    if sender is None:
        sender = NudgeSender(_notify_dispatchers, linger_seconds=LINGER_SECONDS)
        atexit.register(sender.flush)
    _trigger = sender
    return sender


def nudge(message_id: int = 0) -> None:
    """Wake the dispatchers for a committed message, or (no id) for whatever is due now: after an operator
    replayed dead letters or asked for a probe. After commit; never fails the caller."""
    (_trigger or install_trigger()).nudge(message_id)
