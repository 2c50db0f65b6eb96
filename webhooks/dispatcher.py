"""The outbox dispatcher (OUTBOX_TRIGGER=notify, PostgreSQL): a long-running process that delivers
without a Celery task per nudge.

`python manage.py run_outbox_dispatcher` LISTENs on `hub_outbox`; every insert into the outbox
notifies it at commit (a statement trigger, migration 0006), so there is no publish on the request
path. Woken, it delivers batch after batch (`outbox_deliver`) until nothing is due, then waits for
the next notification or at most OUTBOX_DISPATCHER_IDLE_SECONDS, which also picks up retries coming
due; woken, it lingers OUTBOX_DISPATCHER_LINGER_MS so that the commits of those milliseconds share a
batch. Under load notifications pile up while it sends, and the next claim takes them all at once:
batches grow with the load. Leases, ordering, the breaker and dead letters are the outbox's own
(`webhooks.claims`), so several dispatchers may run side by side, next to Celery workers, and a
dispatcher killed mid-batch loses nothing (its leases expire). Beat's sweep stays the safety net.
"""

import threading

import psycopg
import structlog
from django.conf import settings
from django.db import DatabaseError, close_old_connections

from webhooks.outbox import outbox_deliver

logger = structlog.get_logger(__name__)
CHANNEL = "hub_outbox"
RECONNECT_SECONDS = 1.0


def _listen() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    listener = psycopg.connect(dbname=db["NAME"], user=db.get("USER") or None, password=db.get("PASSWORD") or None,
                               host=db.get("HOST") or None, port=db.get("PORT") or None, autocommit=True)
    listener.execute(f"LISTEN {CHANNEL}")
    return listener


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


def dispatch(stop: threading.Event, *, idle_seconds: float | None = None) -> int:
    """Deliver until `stop` is set; returns how many attempts were made."""
    idle = settings.OUTBOX_DISPATCHER_IDLE_SECONDS if idle_seconds is None else idle_seconds
    listener: psycopg.Connection | None = None
    attempted = 0
    while not stop.is_set():
        try:
            if listener is None:
                listener = _listen()
                logger.info("outbox_dispatcher_listening", channel=CHANNEL)
            close_old_connections()  # CONN_MAX_AGE and health checks, as between requests
            while not stop.is_set() and (batch := outbox_deliver()):
                attempted += batch
            if _woken(listener, timeout=idle):
                # let the commits of the next few milliseconds join this batch (one claim, one commit)
                stop.wait(settings.OUTBOX_DISPATCHER_LINGER_MS / 1000)
                _drop_queued(listener)
        except (DatabaseError, psycopg.Error):
            logger.warning("outbox_dispatcher_database_error", exc_info=True)
            if listener is not None:
                listener.close()
            listener = None
            close_old_connections()
            stop.wait(RECONNECT_SECONDS)
    if listener is not None:
        listener.close()
    return attempted
