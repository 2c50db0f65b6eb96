"""The transactional outbox: enqueue in the caller's transaction, claim with a lease, deliver,
record the attempt.

The database is the source of truth; Celery messages are only nudges. A claim takes due rows
with `SELECT … FOR UPDATE SKIP LOCKED` (SQLite: the IMMEDIATE transaction serializes claims)
and stamps a lease token on them; delivery happens outside any transaction; the outcome is
written only by the lease holder. A worker that dies mid-delivery leaves a lease that expires,
and the next sweep claims the message again (at-least-once; receivers dedupe on webhook-id).
"""

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, partial

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from hub import metrics
from webhooks.circuit import circuit_gate, circuit_record, circuit_release_probe
from webhooks.delivery import DeliveryResult, send
from webhooks.models import DeliveryAttempt, Destination, OutboxMessage
from webhooks.retry import next_retry_delay

logger = structlog.get_logger(__name__)

Status = OutboxMessage.Status
# Retries due sooner than this get a Celery countdown nudge; later ones wait for the sweep.
NUDGE_MAX_COUNTDOWN_SECONDS = 300


@dataclass(frozen=True)
class Claim:
    message: OutboxMessage
    token: str


def new_event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def nudge_delivery(message_id: int, countdown: float | None = None) -> None:
    """Ask a worker to deliver now. Never fails the caller: the sweep is the safety net."""
    from webhooks.tasks import deliver_message

    try:
        deliver_message.apply_async((message_id,), countdown=countdown, retry=False)
    except Exception:  # broker down or misconfigured: the row is safe in the database
        logger.warning("outbox_nudge_failed", message_id=message_id, exc_info=True)


def nudge_sweep() -> None:
    from webhooks.tasks import sweep_outbox

    try:
        sweep_outbox.apply_async(retry=False)
    except Exception:
        logger.warning("outbox_sweep_nudge_failed", exc_info=True)


@transaction.atomic
def outbox_enqueue(
    *,
    destination: str,
    event_type: str,
    data: dict,
    path: str = "",
    ordering_key: str = "",
    correlation_id: str = "",
    occurred_at: datetime | None = None,
) -> OutboxMessage:
    """Write a message in the caller's transaction; it is handed to a worker after commit."""
    message = OutboxMessage.objects.create(
        event_id=new_event_id(),
        event_type=event_type,
        destination=Destination.objects.get(name=destination),
        path=path,
        payload=data,
        ordering_key=ordering_key,
        correlation_id=correlation_id or structlog.contextvars.get_contextvars().get("correlation_id", ""),
        occurred_at=occurred_at or timezone.now(),
    )
    transaction.on_commit(partial(nudge_delivery, message.id))
    return message


def due_messages(*, now: datetime) -> QuerySet[OutboxMessage]:
    """Pending, due, not leased, destination enabled, and first in line for its ordering key."""
    earlier_pending = OutboxMessage.objects.filter(
        ordering_key=OuterRef("ordering_key"), id__lt=OuterRef("id"), status=Status.PENDING
    )
    return (
        OutboxMessage.objects.filter(status=Status.PENDING, next_attempt_at__lte=now, destination__enabled=True)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .filter(Q(ordering_key="") | ~Exists(earlier_pending))
        .order_by("next_attempt_at", "id")
    )


def _lock_ids(queryset: QuerySet[OutboxMessage], limit: int) -> list[int]:
    return list(queryset.select_for_update(skip_locked=True, of=("self",)).values_list("id", flat=True)[:limit])


def outbox_claim(*, limit: int, message_id: int | None = None) -> list[Claim]:
    """Lease up to `limit` due messages (or just `message_id`) to this caller."""
    now = timezone.now()
    lease = timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    with transaction.atomic():
        blocked, probes = circuit_gate(now=now, lease=lease)
        due = due_messages(now=now).exclude(destination_id__in=blocked)
        if message_id is not None:
            due = due.filter(id=message_id)
        ids = _lock_ids(due.exclude(destination_id__in=probes), limit)
        for destination_id in probes:
            probe = _lock_ids(due.filter(destination_id=destination_id), 1)
            if not probe:
                circuit_release_probe(destination_id=destination_id)
            ids += probe
        if not ids:
            return []
        token = uuid.uuid4().hex
        OutboxMessage.objects.filter(id__in=ids).update(leased_until=now + lease, lease_token=token)
        messages = OutboxMessage.objects.filter(id__in=ids).select_related("destination").order_by("id")
        return [Claim(message=message, token=token) for message in messages]


def _next_in_line(message: OutboxMessage) -> int | None:
    if not message.ordering_key:
        return None
    return (
        OutboxMessage.objects.filter(ordering_key=message.ordering_key, status=Status.PENDING, id__gt=message.id)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


@transaction.atomic
def outbox_finish(*, claim: Claim, result: DeliveryResult) -> None:
    """Record the attempt and move the message on: delivered, retry later, or dead letter."""
    message, now = claim.message, timezone.now()
    destination = message.destination
    DeliveryAttempt.objects.create(
        message=message,
        destination=destination,
        attempted_at=now,
        duration_ms=result.duration_ms,
        status_code=result.status_code,
        response_excerpt=result.excerpt,
        error=result.error,
        succeeded=result.succeeded,
    )
    attempts = message.attempts + 1
    # A delivery counts even if our lease ran out meanwhile; a failure only moves the
    # message on while we still hold it, so the current holder's work is not overwritten.
    pending = OutboxMessage.objects.filter(id=message.id, status=Status.PENDING)
    owned = pending.filter(lease_token=claim.token)
    released = {"leased_until": None, "lease_token": ""}
    retry_in = None
    if result.succeeded:
        finished = pending.update(status=Status.DELIVERED, delivered_at=now, attempts=attempts, last_error="", **released)
    elif attempts >= destination.max_attempts:
        finished = owned.update(status=Status.DEAD_LETTER, attempts=attempts, last_error=result.error, **released)
        logger.warning("outbox_dead_letter", event_id=message.event_id, destination=destination.name, attempts=attempts)
    else:
        retry_in = next_retry_delay(
            delays=destination.retry_delays, failed_attempts=attempts, retry_after=result.retry_after
        )
        owned.update(
            attempts=attempts, next_attempt_at=now + timedelta(seconds=retry_in), last_error=result.error, **released
        )
        finished = 0
    circuit_record(destination_id=destination.id, succeeded=result.succeeded, now=now)
    metrics.DELIVERY_ATTEMPTS.labels(destination.name, "delivered" if result.succeeded else "failed").inc()
    if result.succeeded and finished:
        metrics.DELIVERY_LATENCY.labels(destination.name).observe((now - message.created_at).total_seconds())

    if retry_in is not None and retry_in <= NUDGE_MAX_COUNTDOWN_SECONDS:
        transaction.on_commit(partial(nudge_delivery, message.id, retry_in))
    if finished and (next_id := _next_in_line(message)):
        transaction.on_commit(partial(nudge_delivery, next_id))


@cache
def _delivery_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=settings.OUTBOX_DELIVERY_THREADS, thread_name_prefix="outbox")


def outbox_deliver(claims: list[Claim]) -> None:
    """HTTP in parallel threads; every database write stays on the calling thread."""
    if len(claims) == 1:
        results = [send(claims[0].message)]
    else:
        results = list(_delivery_pool().map(lambda claim: send(claim.message), claims))
    for claim, result in zip(claims, results, strict=True):
        outbox_finish(claim=claim, result=result)


def outbox_deliver_one(*, message_id: int) -> bool:
    """The fast path: deliver this message now if it is due and first in line."""
    claims = outbox_claim(limit=1, message_id=message_id)
    outbox_deliver(claims)
    return bool(claims)


def outbox_sweep(*, budget_seconds: float | None = None) -> int:
    """Attempt due messages batch by batch until none is due or the time budget is spent;
    returns how many attempts were made."""
    budget = settings.OUTBOX_SWEEP_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    deadline = timezone.now() + timedelta(seconds=budget)
    attempted = 0
    while timezone.now() < deadline:
        claims = outbox_claim(limit=settings.OUTBOX_BATCH_SIZE)
        if not claims:
            break
        outbox_deliver(claims)
        attempted += len(claims)
    return attempted
