"""After-commit delivery nudges, sent off the request thread and coalesced.

Publishing one Celery message costs about a millisecond of Python (kombu builds the message, then
a Redis round trip): a tenth of a wallet debit's CPU. So a committed message's id goes into a
process-local queue, and one daemon thread per process turns the queue into `deliver_due` tasks:
one per OUTBOX_BATCH_SIZE queued ids (a task delivers one batch of whatever is due). A nudge waits
OUTBOX_NUDGE_LINGER_MS (default 10 ms) for company before it leaves, and the nudges that arrive
meanwhile or while it publishes share the task: fewer publishes here, and fewer, larger batches
(one claim and one commit each) in the worker.

The database stays the source of truth: a nudge lost with its process (killed before the send)
is made up for by the periodic sweep (OUTBOX_SWEEP_SECONDS), exactly like a lost Celery message.
"""

import atexit
import os
import threading
import time
from collections import deque
from collections.abc import Callable

import structlog

logger = structlog.get_logger(__name__)

MAX_IDS_PER_TASK = 100


class NudgeSender:
    """Coalesces message ids into calls of `send(ids)` on a background thread."""

    def __init__(self, send: Callable[[list[int]], None], *, linger_seconds: float = 0.0,
                 max_batch: int = MAX_IDS_PER_TASK) -> None:
        self._send = send
        self._linger_seconds = linger_seconds
        self._max_batch = max_batch
        self._pending: deque[int] = deque()
        self._wake = threading.Event()
        self._started_in_pid: int | None = None
        self._start_lock = threading.Lock()

    def nudge(self, message_id: int) -> None:
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


def _publish_deliver_due(message_ids: list[int]) -> None:
    """One `deliver_due` task for a batch of committed ids. The task takes whatever is due, these
    included, so the ids themselves need not travel."""
    from webhooks.tasks import deliver_due

    deliver_due.apply_async(retry=False)


class DatabaseNotifies:
    """The trigger with OUTBOX_TRIGGER=notify: nothing to do here, since the outbox insert's own NOTIFY
    (a PostgreSQL trigger, sent at commit) wakes the dispatcher (webhooks/dispatcher.py)."""

    def nudge(self, message_id: int) -> None:
        pass

    def flush(self) -> None:
        pass


_trigger: NudgeSender | DatabaseNotifies | None = None


def install_trigger(sender: NudgeSender | DatabaseNotifies | None = None) -> NudgeSender | DatabaseNotifies:
    """Build the process's delivery trigger at startup (WebhooksConfig.ready), or put `sender` in its
    place (tests). Whatever it still holds is sent when the process exits."""
    global _trigger
    if sender is None:
        from django.conf import settings
        from django.db import connection

        if settings.OUTBOX_TRIGGER == "notify" and connection.vendor == "postgresql":
            sender = DatabaseNotifies()
        else:
            sender = NudgeSender(_publish_deliver_due, linger_seconds=settings.OUTBOX_NUDGE_LINGER_MS / 1000,
                                 max_batch=settings.OUTBOX_BATCH_SIZE)
            atexit.register(sender.flush)
    _trigger = sender
    return sender


def nudge(message_id: int) -> None:
    """Ask for the delivery of a committed message (after commit; never fails the caller)."""
    (_trigger or install_trigger()).nudge(message_id)


def nudge_later(message_id: int, countdown: float) -> None:
    """Ask a worker to deliver in `countdown` seconds (a retry). Never fails the caller: the sweep
    is the safety net."""
    from webhooks.tasks import deliver_message

    try:
        deliver_message.apply_async((message_id,), countdown=countdown, retry=False)
    except Exception:  # broker down or misconfigured: the row is safe in the database
        logger.warning("outbox_nudge_failed", message_id=message_id, exc_info=True)


def nudge_sweep() -> None:
    """Ask a worker to sweep now (after a replay)."""
    from webhooks.tasks import sweep_outbox

    try:
        sweep_outbox.apply_async(retry=False)
    except Exception:
        logger.warning("outbox_sweep_nudge_failed", exc_info=True)
