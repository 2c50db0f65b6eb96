"""The outbox dispatcher: the long-running process that delivers the outbox, its one delivery trigger.

`python manage.py run_outbox_dispatcher` LISTENs on `hub_outbox`. After their commits, the web and
worker processes' nudge threads send one `NOTIFY hub_outbox` per linger (`webhooks.nudges`). Woken,
the dispatcher lingers LINGER_SECONDS so that the commits of those milliseconds share a batch, or
BUSY_LINGER_SECONDS when the notification came within BUSY_WITHIN_SECONDS of the previous linger's end
(`Linger`): a lone webhook still leaves at once, and under load batches grow instead of costing a claim
and a commit per webhook or two. Then a runner thread claims and delivers batch after batch
(`outbox_deliver`) until one comes back short. Up to BATCHES_IN_FLIGHT runners are in flight: while one
sends, the next wake-up claims what was committed meanwhile, so the dispatcher keeps up under load
instead of waiting for the slowest response of each batch. Without a notification it looks at most
every OUTBOX_DISPATCHER_IDLE_SECONDS, which also picks up retries coming due.

Leases, ordering, the breaker and dead letters are the outbox's own (`webhooks.claims`), so several
dispatchers may run side by side, and a dispatcher killed mid-batch loses nothing (its leases expire).
Beat's sweep stays the safety net.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import structlog
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from psycopg import sql

from hub.db import between_units_of_work
from webhooks.nudges import NOTIFY_CHANNEL
from webhooks.selectors import LISTENER_APPLICATION_NAME
from webhooks.outbox import outbox_deliver

logger = structlog.get_logger(__name__)
RECONNECT_SECONDS = 1.0
LINGER_SECONDS = 0.010
# Under load: batches several times larger for at most this much more latency (docs/PERFORMANCE.md).
BUSY_LINGER_SECONDS, BUSY_WITHIN_SECONDS = 0.100, 0.050
BATCHES_IN_FLIGHT = 2


def _listen() -> psycopg.Connection:
    """A connection of its own, made as Django makes the hub's (DATABASES, its OPTIONS included: sslmode,
    certificates), kept out of Django's per-thread handling: it only waits for notifications."""
    database = connections.create_connection(DEFAULT_DB_ALIAS)
    database.connect()
    listener = database.connection
    listener.autocommit = True
    listener.execute(sql.SQL("SET application_name = {}").format(sql.Literal(LISTENER_APPLICATION_NAME)))
    listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(NOTIFY_CHANNEL)))
    return listener


def plan_per_call(*, connection: BaseDatabaseWrapper, **_: object) -> None:
    """Have each of this process's connections plan the claim and the record for each call (connected to
    `connection_created` by `dispatch`). A delivering process keeps its connection, so after five runs
    its prepared statements switched to PostgreSQL's generic plan, and with the outbox's statistics stale
    (a table that fills and empties) that plan walked the index entries of rows long delivered: 18-20 ms
    of PostgreSQL CPU per debit at half load, and 0.9 ms against 0.05 ms for a claim by id in the cost
    bench's database (make bench, EXPLAIN). Planning costs far less, and it is paid once per batch. Only
    the dispatcher does this: on the web's connections it cost the debit 0.2 ms."""
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_custom_plan")


def _woken(listener: psycopg.Connection, *, timeout: float) -> bool:
    """Wait for one notification, at most `timeout` seconds."""
    notifications = listener.notifies(timeout=timeout, stop_after=1)
    try:
        return next(notifications, None) is not None
    finally:
        notifications.close()


def _drop_queued(listener: psycopg.Connection) -> None:
    """Every notification is the same wake-up, and the next claim takes all their messages at once.
    Handled one by one, each with its linger, they piled up under load: 200 commits a second
    cost 2 s of lingering a second, and the dispatcher fell seconds behind (make bench)."""
    for _ in listener.notifies(timeout=0):
        pass


class Linger:
    """How long to wait for company once woken: the quiet linger when the dispatcher had been waiting a
    while for this wake-up, the busy linger when it came within `busy_within` of the end of the previous
    linger (commits arrive faster than batches leave). The busy linger trades some latency under load
    for batches several times larger: one webhook per batch cost 1.8 ms of dispatcher CPU, against 0.8 ms
    per webhook in batches (docs/PERFORMANCE.md). Measuring the wait, not the time between wake-ups, keeps
    a slow trickle (a webhook every 100 ms) quiet whatever the busy linger."""

    def __init__(self, *, quiet_seconds: float, busy_seconds: float, busy_within_seconds: float) -> None:
        self._quiet, self._busy, self._busy_within = quiet_seconds, busy_seconds, busy_within_seconds
        self._lingered_until = float("-inf")

    def woken(self, now: float) -> float:
        """Seconds to linger after a wake-up at `now` (time.monotonic())."""
        linger = self._busy if now - self._lingered_until < self._busy_within else self._quiet
        self._lingered_until = now + linger
        return linger


class _Runners:
    """At most `size` threads claiming and delivering at once, each with its own database connection."""

    def __init__(self, size: int, stop: threading.Event) -> None:
        self._stop = stop
        self._free = threading.Semaphore(size)
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="dispatcher")
        self._lock = threading.Lock()
        self.attempted = 0

    def start_draining(self) -> bool:
        """Start a runner once one is free (False if `stop` was set meanwhile)."""
        while not self._free.acquire(timeout=0.2):
            if self._stop.is_set():
                return False
        self._pool.submit(self._drain)
        return True

    def _drain(self) -> None:
        try:
            while not self._stop.is_set():
                between_units_of_work()  # CONN_MAX_AGE, a broken connection and DEBUG's query log, as between requests
                attempted = outbox_deliver()
                with self._lock:
                    self.attempted += attempted
                if attempted < settings.OUTBOX_BATCH_SIZE:
                    break
        except (DatabaseError, psycopg.Error):
            logger.warning("outbox_dispatcher_database_error", exc_info=True)
        except Exception:  # noqa: BLE001 - a bug in one batch must not stop the dispatcher; its leases expire
            logger.exception("outbox_dispatcher_batch_failed")
        finally:
            self._free.release()

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def dispatch(stop: threading.Event, *, idle_seconds: float | None = None) -> int:
    """Deliver until `stop` is set; returns how many attempts were made."""
    idle = settings.OUTBOX_DISPATCHER_IDLE_SECONDS if idle_seconds is None else idle_seconds
    connection_created.connect(plan_per_call, dispatch_uid="outbox-plan-per-call")
    runners = _Runners(BATCHES_IN_FLIGHT, stop)
    linger = Linger(quiet_seconds=LINGER_SECONDS, busy_seconds=BUSY_LINGER_SECONDS,
                    busy_within_seconds=BUSY_WITHIN_SECONDS)
    listener: psycopg.Connection | None = None
    while not stop.is_set():
        try:
            if listener is None:
                listener = _listen()
                logger.info("outbox_dispatcher_listening", channel=NOTIFY_CHANNEL)
            if not runners.start_draining():
                break
            if _woken(listener, timeout=idle):
                # let the commits of the next few milliseconds join this batch (one claim, one commit)
                stop.wait(linger.woken(time.monotonic()))
                _drop_queued(listener)
        except psycopg.Error:
            logger.warning("outbox_dispatcher_database_error", exc_info=True)
            if listener is not None:
                listener.close()
            listener = None
            stop.wait(RECONNECT_SECONDS)
    if listener is not None:
        listener.close()
    runners.close()
    return runners.attempted
