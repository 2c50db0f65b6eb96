"""After-commit delivery nudges, sent off the request thread and coalesced.

A committed message's id goes into a process-local queue, and one daemon thread per process turns
the queue into wake-ups. A nudge waits OUTBOX_NUDGE_LINGER_MS (default 10 ms) for company before it
leaves, and the nudges that arrive meanwhile or while it is sent share it. What a wake-up is depends
on OUTBOX_TRIGGER:

* `celery`: a `deliver_due` task, one per OUTBOX_BATCH_SIZE queued ids (a task delivers one batch of
  whatever is due). Publishing one costs about a millisecond of Python (kombu builds the message, then
  a Redis round trip), so while a task waits in the queue further nudges publish none (a flag in the
  shared cache, `QUEUED_FLAG`): the queued task claims whatever is due when it starts.
* `notify` (PostgreSQL): one `NOTIFY hub_outbox` on the thread's own connection, which wakes the
  dispatchers (`webhooks.dispatcher`): no Celery message and no task at all.

The database stays the source of truth: a nudge lost with its process (killed before the send)
is made up for by the periodic sweep (OUTBOX_SWEEP_SECONDS) and the dispatchers' idle wake-up.
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


# Set while a `deliver_due` task waits in the queue. That task will claim whatever is due when it
# starts, so a nudge meanwhile needs no task of its own: under load tasks no longer outnumber what
# the workers can start, and each takes a larger batch (one task, claim and commit for many webhooks).
# Its expiry bounds the wait if the queued task is lost; the sweep remains the safety net.
QUEUED_FLAG = "outbox:deliver-due-queued"


def _queued_flag() -> str:
    """Per queue: deployments (or tests) sharing one cache but not one queue must not hold each other back."""
    from webhooks.tasks import deliver_due

    return f"{QUEUED_FLAG}:{deliver_due.app.conf.task_default_queue}"


def _publish_deliver_due(message_ids: list[int]) -> None:
    """One `deliver_due` task for a batch of committed ids, unless one is queued and not started yet.
    The task takes whatever is due, these included, so the ids themselves need not travel."""
    from django.conf import settings
    from django.core.cache import cache

    from webhooks.tasks import deliver_due

    flag = _queued_flag()
    try:
        if not cache.add(flag, 1, timeout=settings.OUTBOX_NUDGE_QUEUED_SECONDS):
            return
    except Exception:  # noqa: BLE001 - cache down: publish anyway (the broker may still be up)
        logger.warning("outbox_nudge_flag_unavailable", exc_info=True)
    try:
        deliver_due.apply_async(kwargs={"queued_flag": flag}, retry=False)
    except Exception:
        deliver_due_started(flag)  # nothing is queued after all: the next nudge must try again
        raise


def deliver_due_started(flag: str) -> None:
    """Called by `deliver_due` before it claims: from now on a commit's nudge queues a new task. The
    flag's name travels with the task, so a worker with another default queue clears the right one."""
    from django.core.cache import cache

    if not flag:
        return
    try:
        cache.delete(flag)
    except Exception:  # noqa: BLE001 - the flag expires on its own
        logger.warning("outbox_nudge_flag_unavailable", exc_info=True)


NOTIFY_CHANNEL = "hub_outbox"


def _notify_dispatchers(message_ids: list[int]) -> None:
    """OUTBOX_TRIGGER=notify: one NOTIFY for every nudge of the linger, on this thread's own connection,
    after the commits. A NOTIFY inside the writing transaction (an insert trigger did it until migration
    0007) takes PostgreSQL's global notify lock at every commit: commits queue behind each other."""
    from django.db import connection

    from hub.db import between_units_of_work

    try:
        between_units_of_work()  # a thread of its own, which no request starts: DEBUG logged every NOTIFY
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {NOTIFY_CHANNEL}")
    except Exception:
        connection.close()  # reconnect next time; the dispatchers' idle wake-up delivers meanwhile
        raise


class NoTrigger:
    """Nudges nothing (benchmarks that deliver on their own)."""

    def nudge(self, message_id: int) -> None:
        pass

    def flush(self) -> None:
        pass


_trigger: NudgeSender | NoTrigger | None = None


def install_trigger(sender: NudgeSender | NoTrigger | None = None) -> NudgeSender | NoTrigger:
    """Build the process's delivery trigger at startup (WebhooksConfig.ready), or put `sender` in its
    place (tests). Whatever it still holds is sent when the process exits."""
    global _trigger
    if sender is None:
        from django.conf import settings

        linger = settings.OUTBOX_NUDGE_LINGER_MS / 1000
        if dispatchers_deliver():
            sender = NudgeSender(_notify_dispatchers, linger_seconds=linger, max_batch=10_000)
        else:
            sender = NudgeSender(_publish_deliver_due, linger_seconds=linger, max_batch=settings.OUTBOX_BATCH_SIZE)
        atexit.register(sender.flush)
    _trigger = sender
    return sender


def dispatchers_deliver() -> bool:
    """Whether `run_outbox_dispatcher` processes deliver what is committed (OUTBOX_TRIGGER=notify), rather
    than Celery's `deliver_due` tasks."""
    from django.conf import settings

    return settings.OUTBOX_TRIGGER == "notify"


def nudge(message_id: int) -> None:
    """Ask for the delivery of a committed message (after commit; never fails the caller)."""
    (_trigger or install_trigger()).nudge(message_id)


def nudge_due() -> None:
    """Ask a worker to deliver whatever is due now. Never fails the caller: the sweep is the safety net."""
    try:
        _publish_deliver_due([])
    except Exception:  # noqa: BLE001 - broker down
        logger.warning("outbox_nudge_failed", exc_info=True)


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
