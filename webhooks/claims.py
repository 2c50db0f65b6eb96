"""Leases on outbox messages: claim a batch of due ones, then record what became of each.

A claim takes due rows with `SELECT … FOR UPDATE SKIP LOCKED` and stamps a lease token on them; the
outcome is written only by the lease holder. A dispatcher that dies mid-delivery leaves a lease that
expires, and the next claim takes the message again (at-least-once; receivers dedupe on webhook-id).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hub import metrics
from webhooks import nudges, statements
from webhooks.circuit import circuit_gate, circuit_record, circuit_release_probe
from webhooks.delivery import DeliveryResult
from webhooks.models import OutboxMessage
from webhooks.retry import next_retry_delay
from webhooks.senders import dead_letter_hook_for

logger = structlog.get_logger(__name__)

Status = OutboxMessage.Status


@dataclass(frozen=True)
class Claim:
    message: OutboxMessage
    token: str


def claim_due(*, limit: int, message_ids: list[int] | None = None) -> list[Claim]:
    """Lease up to `limit` due messages (only among `message_ids` if given) to this caller: one statement
    while no circuit is open; otherwise, in one transaction, the circuits' gate and then that statement
    for the destinations let through and once for each half-open probe."""
    now = timezone.now()
    leased_until = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    token = uuid.uuid4().hex
    claim = partial(statements.claim, now=now, leased_until=leased_until, token=token, message_ids=message_ids)
    messages = claim(limit=limit)
    if messages is None:
        with transaction.atomic():
            blocked, probes = circuit_gate(now=now, lease=leased_until - now)
            messages = claim(limit=limit, gated=True, excluded=[*blocked, *probes]) or []
            for destination_id in probes:
                probe = claim(limit=1, gated=True, only_destination=destination_id) or []
                if not probe:
                    circuit_release_probe(destination_id=destination_id)
                messages += probe
    return [Claim(message=message, token=token) for message in sorted(messages, key=lambda message: message.id)]


def record_outcomes(outcomes: list[tuple[Claim, DeliveryResult]]) -> None:
    """Record a batch's attempts (one commit per batch, not per message) and move each message on:
    delivered, retry later, or dead letter. A batch that was all delivered is one statement; failures
    take a transaction: the attempts first (the circuit counts them), then each failure, then the
    deliveries (a success closes its destination's circuit)."""
    now = timezone.now()
    delivered = [claim.message for claim, result in outcomes if result.succeeded]
    failures = [(claim, result) for claim, result in outcomes if not result.succeeded]
    attempts = _attempts(outcomes)
    if not failures:
        _after_deliveries(delivered, statements.record_delivered(now=now, delivered=delivered, attempts=attempts), now)
        return
    with transaction.atomic():
        statements.record_delivered(now=now, delivered=[], attempts=attempts)
        for claim, result in failures:
            _record_failure(claim, result, now)
        if delivered:
            _after_deliveries(delivered, statements.record_delivered(now=now, delivered=delivered), now)


def _attempts(outcomes: list[tuple[Claim, DeliveryResult]]) -> list[statements.Attempt]:
    return [statements.Attempt(message_id=claim.message.id, destination_id=claim.message.destination_id,
                               duration_ms=result.duration_ms, status_code=result.status_code, excerpt=result.excerpt,
                               error=result.error, succeeded=result.succeeded)
            for claim, result in outcomes]


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
            if hook := dead_letter_hook_for(destination.name):
                hook(message, result.error)
            if message.ordering_key:  # a dead letter unblocks its successors
                transaction.on_commit(nudges.nudge)
    else:
        retry_in = result.retry_in if result.retry_in is not None else next_retry_delay(
            delays=destination.retry_delays, failed_attempts=attempts, retry_after=result.retry_after
        )
        owned.update(
            attempts=attempts, next_attempt_at=now + timedelta(seconds=retry_in), last_error=result.error, **released
        )
    if not result.permanent and result.retry_in is None:  # the message's own state says nothing of the destination
        circuit_record(destination_id=destination.id, succeeded=False, now=now)
    metrics.DELIVERY_ATTEMPTS.labels(destination.name, "failed").inc()
