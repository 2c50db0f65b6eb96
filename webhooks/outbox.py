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
from django.db.models import Exists, F, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from hub import metrics
from webhooks import nudges
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


def nudge_delivery(message_id: int, countdown: float) -> None:
    """Ask a worker to deliver in `countdown` seconds (a retry). Never fails the caller: the sweep
    is the safety net. Immediate nudges go through `nudges.nudge`, coalesced."""
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
) -> OutboxMessage:
    """Write a message in the caller's transaction; it is handed to a worker after commit."""
    message = OutboxMessage.objects.create(
        event_id=new_event_id(),
        event_type=event_type,
        # The id looked up inside the INSERT: no query of its own. An unknown name fails the
        # caller's transaction (destination_id NOT NULL); setup_destinations creates the names used.
        destination_id=Subquery(Destination.objects.filter(name=destination).values("id")[:1]),
        path=path,
        payload=data,
        ordering_key=ordering_key,
        correlation_id=correlation_id or structlog.contextvars.get_contextvars().get("correlation_id", ""),
        occurred_at=occurred_at or timezone.now(),
    )
    del message.__dict__["destination_id"]  # the expression, not the id: read back if a caller asks
    transaction.on_commit(partial(nudges.nudge, message.id))
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


def _lock(queryset: QuerySet[OutboxMessage], limit: int) -> list[OutboxMessage]:
    return list(queryset.select_related("destination").select_for_update(skip_locked=True, of=("self",))[:limit])


def outbox_claim(*, limit: int, message_ids: list[int] | None = None) -> list[Claim]:
    """Lease up to `limit` due messages (only among `message_ids` if given) to this caller."""
    now = timezone.now()
    lease = timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    with transaction.atomic():
        blocked, probes = circuit_gate(now=now, lease=lease)
        due = due_messages(now=now).exclude(destination_id__in=blocked)
        if message_ids is not None:
            due = due.filter(id__in=message_ids)
        messages = _lock(due.exclude(destination_id__in=probes), limit)
        for destination_id in probes:
            probe = _lock(due.filter(destination_id=destination_id), 1)
            if not probe:
                circuit_release_probe(destination_id=destination_id)
            messages += probe
        if not messages:
            return []
        token, leased_until = uuid.uuid4().hex, now + lease
        OutboxMessage.objects.filter(id__in=[message.id for message in messages]).update(
            leased_until=leased_until, lease_token=token
        )
        for message in messages:
            message.leased_until, message.lease_token = leased_until, token
        return [Claim(message=message, token=token) for message in sorted(messages, key=lambda message: message.id)]


def _nudge_heads_of_line(ordering_keys: set[str]) -> None:
    """After commit, nudge the first pending message of each ordering key."""
    heads = (
        OutboxMessage.objects.filter(ordering_key__in=ordering_keys, status=Status.PENDING)
        .values("ordering_key")
        .annotate(head=Min("id"))
        .values_list("head", flat=True)
    )
    for next_id in heads:
        transaction.on_commit(partial(nudges.nudge, next_id))


@transaction.atomic
def outbox_record(outcomes: list[tuple[Claim, DeliveryResult]]) -> None:
    """Record a batch's attempts in one transaction (one commit per batch, not per message) and
    move each message on: delivered, retry later, or dead letter."""
    now = timezone.now()
    DeliveryAttempt.objects.bulk_create([
        DeliveryAttempt(
            message=claim.message, destination=claim.message.destination, attempted_at=now,
            duration_ms=result.duration_ms, status_code=result.status_code, response_excerpt=result.excerpt,
            error=result.error, succeeded=result.succeeded,
        )
        for claim, result in outcomes
    ])
    for claim, result in outcomes:
        if not result.succeeded:
            _record_failure(claim, result, now)
    if delivered := [claim.message for claim, result in outcomes if result.succeeded]:
        _record_deliveries(delivered, now)


def _record_deliveries(messages: list[OutboxMessage], now: datetime) -> None:
    # A delivery counts even if our lease ran out meanwhile (the receiver has it either way).
    OutboxMessage.objects.filter(id__in=[message.id for message in messages], status=Status.PENDING).update(
        status=Status.DELIVERED, delivered_at=now, attempts=F("attempts") + 1, last_error="", leased_until=None,
        lease_token="",
    )
    for destination_id in {message.destination_id for message in messages}:
        circuit_record(destination_id=destination_id, succeeded=True, now=now)
    for message in messages:
        metrics.DELIVERY_ATTEMPTS.labels(message.destination.name, "delivered").inc()
        metrics.DELIVERY_LATENCY.labels(message.destination.name).observe((now - message.created_at).total_seconds())
    if ordering_keys := {message.ordering_key for message in messages if message.ordering_key}:
        _nudge_heads_of_line(ordering_keys)


def _record_failure(claim: Claim, result: DeliveryResult, now: datetime) -> None:
    # A failure only moves the message on while we still hold it, so the current holder's work
    # is not overwritten.
    message = claim.message
    destination = message.destination
    attempts = message.attempts + 1
    owned = OutboxMessage.objects.filter(id=message.id, status=Status.PENDING, lease_token=claim.token)
    released = {"leased_until": None, "lease_token": ""}
    if result.permanent or attempts >= destination.max_attempts:
        if owned.update(status=Status.DEAD_LETTER, attempts=attempts, last_error=result.error, **released):
            logger.warning("outbox_dead_letter", event_id=message.event_id, destination=destination.name,
                           attempts=attempts)
            if message.ordering_key:  # a dead letter unblocks its successors
                _nudge_heads_of_line({message.ordering_key})
    else:
        retry_in = next_retry_delay(
            delays=destination.retry_delays, failed_attempts=attempts, retry_after=result.retry_after
        )
        owned.update(
            attempts=attempts, next_attempt_at=now + timedelta(seconds=retry_in), last_error=result.error, **released
        )
        if retry_in <= NUDGE_MAX_COUNTDOWN_SECONDS:
            transaction.on_commit(partial(nudge_delivery, message.id, retry_in))
    if not result.permanent:  # the message's own fault says nothing about the destination
        circuit_record(destination_id=destination.id, succeeded=False, now=now)
    metrics.DELIVERY_ATTEMPTS.labels(destination.name, "failed").inc()


@cache
def _delivery_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=settings.OUTBOX_DELIVERY_THREADS, thread_name_prefix="outbox")


def outbox_deliver(claims: list[Claim]) -> None:
    """HTTP in parallel threads; every database write stays on the calling thread."""
    if len(claims) == 1:
        results = [send(claims[0].message)]
    else:
        results = list(_delivery_pool().map(lambda claim: send(claim.message), claims))
    outbox_record(list(zip(claims, results, strict=True)))


def outbox_deliver_ids(*, message_ids: list[int]) -> int:
    """The fast path: deliver these messages now, those that are due and first in line; returns
    how many were attempted."""
    claims = outbox_claim(limit=len(message_ids), message_ids=message_ids)
    outbox_deliver(claims)
    return len(claims)


def outbox_deliver_due() -> int:
    """One batch (OUTBOX_BATCH_SIZE) of whatever is due, oldest first: what an after-commit nudge
    asks for. Under load, the messages of many nudges go in one batch (one claim, one commit),
    and the later nudges find little or nothing left."""
    claims = outbox_claim(limit=settings.OUTBOX_BATCH_SIZE)
    outbox_deliver(claims)
    return len(claims)


def outbox_deliver_one(*, message_id: int) -> bool:
    return outbox_deliver_ids(message_ids=[message_id]) == 1


def outbox_sweep(*, budget_seconds: float | None = None) -> int:
    """Attempt due messages batch by batch until none is due or the time budget is spent;
    returns how many attempts were made."""
    budget = settings.OUTBOX_SWEEP_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    deadline = timezone.now() + timedelta(seconds=budget)
    attempted = 0
    while timezone.now() < deadline and (batch := outbox_deliver_due()):
        attempted += batch
    return attempted
