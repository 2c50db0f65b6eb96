"""The transactional outbox: the whole public API of outbound delivery (data in, ids out).

The database is the source of truth; NOTIFYs only say when to look. These functions, and nothing
else of the app, are meant to be used from outside it:

* `outbox_enqueue(...)` writes a message in the caller's transaction; after commit a NOTIFY wakes the
  dispatchers (`webhooks.nudges`, `webhooks.dispatcher`), the outbox's one delivery trigger.
* `outbox_insert(...)` is the same message for a caller that writes it inside one SQL statement of its
  own (a debit's settlement, answer and webhook in one round trip): `outbox_part(after=...)` is that
  statement's CTE, a psycopg composable, and the `OutboxInsert`'s `params` go with the caller's. After
  the statement, `outbox_inserted(id)` wakes the dispatchers as `outbox_enqueue` does.
* `outbox_deliver(message_ids=None)` claims one batch (these messages, or whatever is due, oldest
  first), sends it in parallel threads and records the outcomes; returns how many were attempted.
  The dispatcher calls it.
* `outbox_sweep(budget_seconds=None)` delivers batch after batch until nothing is due or the budget
  is spent: the safety net run by beat every OUTBOX_SWEEP_SECONDS.

Leases, ordering and the circuit live in `webhooks.claims`; the HTTP of one attempt in
`webhooks.delivery`; the SQL in `webhooks.statements`.
"""

import os
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from psycopg import sql

from webhooks import nudges, statements
from webhooks.claims import Claim, claim_due, record_outcomes
from webhooks.delivery import DeliveryResult, send

# How long one sweep keeps claiming batches (shorter than the sweep task's period is not needed: a
# sweep that runs long only delays the next; beat's `expires` drops sweeps that piled up).
SWEEP_BUDGET_SECONDS = 45


@dataclass(frozen=True)
class Enqueued:
    id: int
    event_id: str  # the webhook-id every attempt carries


def new_event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


@dataclass(frozen=True)
class OutboxInsert:
    """An outbox message for the caller's statement: `outbox_part` is its SQL, these its parameters."""

    event_id: str
    params: dict[str, Any]  # named `m_…`, to sit beside the caller's own


def outbox_part(*, after: str) -> sql.Composable:
    """The one piece of the outbox's SQL another app's statement may hold: a message's INSERT … RETURNING
    id, as the body of a CTE, written only when the caller's CTE named `after` returns a row. Its
    parameters are an `OutboxInsert`'s `params`. The same for every message: build the statement once."""
    return statements.enqueue_part(after)


def outbox_insert(*, destination: str, event_type: str, data: dict, path: str = "", ordering_key: str = "",
                  correlation_id: str = "", occurred_at: datetime | None = None) -> OutboxInsert:
    """A new message, for the caller's own statement (or `outbox_enqueue`'s); pass the id the statement
    returns to `outbox_inserted`. The correlation id is the request's unless given."""
    event_id, now = new_event_id(), timezone.now()
    correlation_id = correlation_id or structlog.contextvars.get_contextvars().get("correlation_id", "")
    return OutboxInsert(event_id=event_id, params=statements.enqueue_params(
        event_id=event_id, event_type=event_type, destination=destination, path=path, data=data,
        ordering_key=ordering_key, correlation_id=correlation_id, occurred_at=occurred_at or now, now=now))


def outbox_enqueue(*, destination: str, event_type: str, data: dict, path: str = "", ordering_key: str = "",
                   correlation_id: str = "", occurred_at: datetime | None = None) -> Enqueued:
    """Write a message in the caller's transaction (one statement: in autocommit, its own); it is handed
    to a dispatcher after commit."""
    message = outbox_insert(destination=destination, event_type=event_type, data=data, path=path,
                            ordering_key=ordering_key, correlation_id=correlation_id, occurred_at=occurred_at)
    message_id = statements.enqueue(message.params)
    outbox_inserted(message_id)
    return Enqueued(id=message_id, event_id=message.event_id)


def outbox_inserted(message_id: int) -> None:
    """Hand a message written by the caller's statement to delivery, after commit."""
    transaction.on_commit(partial(nudges.nudge, message_id))


class _DeliveryThreads:
    """The threads a process sends a batch's HTTP requests on (OUTBOX_DELIVERY_THREADS), started on
    the first batch of each process: made anew per batch they cost 15 % more worker CPU per delivery
    (make bench), and a forked child (Celery prefork) must not inherit its parent's."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def map(self, function: Callable[[Claim], DeliveryResult], claims: list[Claim]) -> list[DeliveryResult]:
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = ThreadPoolExecutor(max_workers=settings.OUTBOX_DELIVERY_THREADS,
                                                thread_name_prefix="outbox")
                self._pid = os.getpid()
            pool = self._pool
        return list(pool.map(function, claims))


delivery_threads = _DeliveryThreads()


def _send_all(claims: list[Claim]) -> None:
    """HTTP in parallel threads; every database write stays on the calling thread."""
    if len(claims) == 1:
        results = [send(claims[0].message)]
    else:
        results = delivery_threads.map(lambda claim: send(claim.message), claims)
    record_outcomes(list(zip(claims, results, strict=True)))


def outbox_deliver(*, message_ids: list[int] | None = None) -> int:
    """Deliver one batch now: these messages (those due and first in line), or, without ids,
    OUTBOX_BATCH_SIZE of whatever is due. Under load the messages of many nudges go in one batch
    (one claim, one commit), and later nudges find little or nothing left."""
    limit = len(message_ids) if message_ids is not None else settings.OUTBOX_BATCH_SIZE
    claims = claim_due(limit=limit, message_ids=message_ids)
    if claims:
        _send_all(claims)
    return len(claims)


def outbox_sweep(*, budget_seconds: float | None = None) -> int:
    """Attempt due messages batch by batch until none is due or the time budget is spent;
    returns how many attempts were made."""
    budget = SWEEP_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    deadline = timezone.now() + timedelta(seconds=budget)
    attempted = 0
    while timezone.now() < deadline and (batch := outbox_deliver()):
        attempted += batch
    return attempted
