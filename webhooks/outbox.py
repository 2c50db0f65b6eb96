"""The transactional outbox: the public API of outbound delivery.

The database is the source of truth; Celery messages and nudges only say when to look. These
functions, and nothing else, are meant to be called from outside the app:

* `outbox_enqueue(...)` writes a message in the caller's transaction; after commit the delivery
  trigger (`webhooks.nudges`) asks a worker to deliver it, or, with OUTBOX_TRIGGER=notify, the
  insert's NOTIFY wakes the dispatcher (`webhooks.dispatcher`).
* `outbox_insert(...)` is the same message for a caller that writes it inside one SQL statement of
  its own on PostgreSQL (a debit's settlement, answer and webhook in one round trip); after the
  statement, `outbox_inserted(id)` nudges as `outbox_enqueue` does.
* `outbox_deliver(message_ids=None)` claims one batch (these messages, or whatever is due, oldest
  first), sends it in parallel threads and records the outcomes in one transaction; returns how
  many were attempted. The Celery tasks call it for nudges and countdown retries.
* `outbox_sweep(budget_seconds=None)` delivers batch after batch until nothing is due or the
  budget is spent: the safety net run by beat every OUTBOX_SWEEP_SECONDS.

Leases, ordering and the circuit live in `webhooks.claims`; the HTTP of one attempt in
`webhooks.delivery`.
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
from django.db.models import Subquery
from django.utils import timezone

from webhooks import nudges, queue_sql
from webhooks.claims import Claim, claim_due, record_outcomes
from webhooks.delivery import DeliveryResult, send
from webhooks.models import Destination, OutboxMessage


@dataclass(frozen=True)
class Enqueued:
    id: int
    event_id: str  # the webhook-id every attempt carries


def new_event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _stamps(correlation_id: str) -> tuple[str, datetime, str]:
    """A new message's event id, creation time and correlation id (the request's, unless given)."""
    return (new_event_id(), timezone.now(),
            correlation_id or structlog.contextvars.get_contextvars().get("correlation_id", ""))


@transaction.atomic(savepoint=False)  # the caller's transaction; a savepoint would cost two round trips
def outbox_enqueue(
    *,
    destination: str,
    event_type: str,
    data: dict,
    path: str = "",
    ordering_key: str = "",
    correlation_id: str = "",
    occurred_at: datetime | None = None,
) -> Enqueued:
    """Write a message in the caller's transaction; it is handed to a worker after commit."""
    event_id, now, correlation_id = _stamps(correlation_id)
    if queue_sql.enabled():
        message_id = queue_sql.enqueue(event_id=event_id, event_type=event_type, destination=destination, path=path,
                                       data=data, ordering_key=ordering_key, correlation_id=correlation_id,
                                       occurred_at=occurred_at or now, now=now)
    else:
        message_id = OutboxMessage.objects.create(
            event_id=event_id, event_type=event_type,
            # The id looked up inside the INSERT: no query of its own. An unknown name fails the
            # caller's transaction (destination_id NOT NULL); setup_destinations creates the names used.
            destination_id=Subquery(Destination.objects.filter(name=destination).values("id")[:1]),
            path=path, payload=data, ordering_key=ordering_key, correlation_id=correlation_id,
            occurred_at=occurred_at or now, next_attempt_at=now, created_at=now,
        ).id
    transaction.on_commit(partial(nudges.nudge, message_id))
    return Enqueued(id=message_id, event_id=event_id)


@dataclass(frozen=True)
class OutboxInsert:
    """An outbox message to write as a data-modifying CTE of the caller's statement (PostgreSQL)."""

    event_id: str
    params: dict[str, Any]  # ENQUEUE_IF's, prefixed `m_`

    def sql(self, *, condition: str) -> str:
        """The INSERT … RETURNING id, written only when the caller's CTE `condition` returns a row."""
        return queue_sql.ENQUEUE_IF.format(condition=condition)


def outbox_insert(*, destination: str, event_type: str, data: dict, path: str = "", ordering_key: str = "",
                  correlation_id: str = "", occurred_at: datetime | None = None) -> OutboxInsert:
    """The message `outbox_enqueue` would write, for the caller's own statement; pass the id it returns
    to `outbox_inserted` once the statement has run."""
    event_id, now, correlation_id = _stamps(correlation_id)
    return OutboxInsert(event_id=event_id, params=queue_sql.enqueue_if_params(
        event_id=event_id, event_type=event_type, destination=destination, path=path, data=data,
        ordering_key=ordering_key, correlation_id=correlation_id, occurred_at=occurred_at or now, now=now))


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
    budget = settings.OUTBOX_SWEEP_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    deadline = timezone.now() + timedelta(seconds=budget)
    attempted = 0
    while timezone.now() < deadline and (batch := outbox_deliver()):
        attempted += batch
    return attempted
