"""Leases on outbox messages: claim a batch of due ones, then record what became of each.

A claim takes due rows with `SELECT … FOR UPDATE SKIP LOCKED` and stamps a lease token on them; the
outcome is written only by the lease holder. A worker that dies mid-delivery leaves a lease that expires, and the next sweep claims the
message again (at-least-once; receivers dedupe on webhook-id).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from hub import metrics
from webhooks import nudges, queue_sql
from webhooks.circuit import circuit_gate, circuit_record, circuit_release_probe
from webhooks.delivery import DeliveryResult
from webhooks.models import DeliveryAttempt, OutboxMessage
from webhooks.retry import next_retry_delay

logger = structlog.get_logger(__name__)

Status = OutboxMessage.Status
# Retries due sooner than this get a Celery countdown nudge; later ones wait for the sweep.
NUDGE_MAX_COUNTDOWN_SECONDS = 300


@dataclass(frozen=True)
class Claim:
    message: OutboxMessage
    token: str


def due_messages(*, now: datetime) -> QuerySet[OutboxMessage]:
    """Pending, due, not leased, destination enabled, and first in line for its ordering key."""
    earlier_pending = OutboxMessage.objects.filter(
        ordering_key=OuterRef("ordering_key"), id__lt=OuterRef("id"), status=Status.PENDING
    ).exclude(ordering_key="")  # the partial index outbox_pending_ordering's condition
    return (
        OutboxMessage.objects.filter(status=Status.PENDING, next_attempt_at__lte=now, destination__enabled=True)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .filter(Q(ordering_key="") | ~Exists(earlier_pending))
        .order_by("next_attempt_at", "id")
    )


def _lock(queryset: QuerySet[OutboxMessage], limit: int) -> list[OutboxMessage]:
    return list(queryset.select_related("destination").select_for_update(skip_locked=True, of=("self",))[:limit])


def claim_due(*, limit: int, message_ids: list[int] | None = None) -> list[Claim]:
    """Lease up to `limit` due messages (only among `message_ids` if given) to this caller."""
    now = timezone.now()
    lease = timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    if queue_sql.enabled():
        queue_sql.plan_per_call()
        token = uuid.uuid4().hex
        messages = queue_sql.claim(now=now, leased_until=now + lease, token=token, limit=limit, message_ids=message_ids)
        if messages is not None:  # no circuit open, the usual case: one statement
            return [Claim(message=message, token=token) for message in sorted(messages, key=lambda m: m.id)]
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


def _heads_of_line(ordering_keys: set[str]) -> list[int]:
    """The first pending message of each ordering key."""
    return list(
        OutboxMessage.objects.filter(ordering_key__in=ordering_keys, status=Status.PENDING)
        .exclude(ordering_key="")
        .values("ordering_key")
        .annotate(head=Min("id"))
        .values_list("head", flat=True)
    )


def _nudge_heads_of_line(ordering_keys: set[str]) -> None:
    """After commit, nudge the first pending message of each ordering key."""
    for next_id in _heads_of_line(ordering_keys):
        transaction.on_commit(partial(nudges.nudge, next_id))


def record_outcomes(outcomes: list[tuple[Claim, DeliveryResult]]) -> None:
    """Record a batch's attempts (one commit per batch, not per message) and move each message on:
    delivered, retry later, or dead letter. A batch that was all delivered is one statement on
    PostgreSQL; failures take a transaction around the attempts and their own updates."""
    now = timezone.now()
    delivered = [claim.message for claim, result in outcomes if result.succeeded]
    failures = [(claim, result) for claim, result in outcomes if not result.succeeded]
    if queue_sql.enabled() and not failures:
        heads = queue_sql.record_delivered(now=now, delivered=delivered, attempts=_attempts(outcomes))
        _after_deliveries(delivered, heads, now)
        return
    with transaction.atomic():
        _insert_attempts(outcomes, now)
        for claim, result in failures:
            _record_failure(claim, result, now)
        if delivered:
            _after_deliveries(delivered, _record_deliveries(delivered, now), now)


def _attempts(outcomes: list[tuple[Claim, DeliveryResult]]) -> list[queue_sql.Attempt]:
    return [queue_sql.Attempt(message_id=claim.message.id, destination_id=claim.message.destination_id,
                              duration_ms=result.duration_ms, status_code=result.status_code, excerpt=result.excerpt,
                              error=result.error, succeeded=result.succeeded)
            for claim, result in outcomes]


def _insert_attempts(outcomes: list[tuple[Claim, DeliveryResult]], now: datetime) -> None:
    if queue_sql.enabled():
        queue_sql.record_delivered(now=now, delivered=[], attempts=_attempts(outcomes))
        return
    DeliveryAttempt.objects.bulk_create([
        DeliveryAttempt(
            message=claim.message, destination=claim.message.destination, attempted_at=now,
            duration_ms=result.duration_ms, status_code=result.status_code, response_excerpt=result.excerpt,
            error=result.error, succeeded=result.succeeded,
        )
        for claim, result in outcomes
    ])


def _record_deliveries(messages: list[OutboxMessage], now: datetime) -> list[int]:
    """Mark them delivered and close their destinations' circuits; the next message of each of their
    ordering keys (now first in line)."""
    if queue_sql.enabled():
        return queue_sql.record_delivered(now=now, delivered=messages)
    # A delivery counts even if our lease ran out meanwhile (the receiver has it either way).
    OutboxMessage.objects.filter(id__in=[message.id for message in messages], status=Status.PENDING).update(
        status=Status.DELIVERED, delivered_at=now, attempts=F("attempts") + 1, last_error="", leased_until=None,
        lease_token="",
    )
    for destination_id in {message.destination_id for message in messages}:
        circuit_record(destination_id=destination_id, succeeded=True, now=now)
    ordering_keys = {message.ordering_key for message in messages if message.ordering_key}
    return _heads_of_line(ordering_keys) if ordering_keys else []


def _after_deliveries(messages: list[OutboxMessage], heads: list[int], now: datetime) -> None:
    for message in messages:
        metrics.DELIVERY_ATTEMPTS.labels(message.destination.name, "delivered").inc()
        metrics.DELIVERY_LATENCY.labels(message.destination.name).observe((now - message.created_at).total_seconds())
    for next_id in heads:  # after commit: inside a transaction, on_commit waits for it
        transaction.on_commit(partial(nudges.nudge, next_id))


def _record_failure(claim: Claim, result: DeliveryResult, now: datetime) -> None:
    # A failure only moves the message on while we still hold it, so the current holder's work
    # is not overwritten.
    message = claim.message
    destination = message.destination
    attempts = message.attempts + 1
    owned = OutboxMessage.objects.filter(id=message.id, status=Status.PENDING, lease_token=claim.token)
    released = {"leased_until": None, "lease_token": ""}
    if result.permanent or (attempts >= destination.max_attempts and result.retry_in is None):
        if owned.update(status=Status.DEAD_LETTER, attempts=attempts, last_error=result.error, **released):
            logger.warning("outbox_dead_letter", event_id=message.event_id, destination=destination.name,
                           attempts=attempts)
            if message.ordering_key:  # a dead letter unblocks its successors
                _nudge_heads_of_line({message.ordering_key})
    else:
        retry_in = result.retry_in if result.retry_in is not None else next_retry_delay(
            delays=destination.retry_delays, failed_attempts=attempts, retry_after=result.retry_after
        )
        owned.update(
            attempts=attempts, next_attempt_at=now + timedelta(seconds=retry_in), last_error=result.error, **released
        )
        if retry_in <= NUDGE_MAX_COUNTDOWN_SECONDS:
            transaction.on_commit(partial(nudges.nudge_later, message.id, retry_in))
    if not result.permanent and result.retry_in is None:  # the message's own state says nothing of the destination
        circuit_record(destination_id=destination.id, succeeded=False, now=now)
    metrics.DELIVERY_ATTEMPTS.labels(destination.name, "failed").inc()
