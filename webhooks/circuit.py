"""Per-destination circuit breaker, its state in the database so every process shares it."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q

from webhooks.delivery import UNSENDABLE
from webhooks.models import DeliveryAttempt, DestinationCircuit


def circuit_gate(*, now: datetime, lease: timedelta) -> tuple[set[int], set[int]]:
    """Destinations to skip (open), and destinations whose one half-open probe we now hold."""
    blocked: set[int] = set()
    probes: set[int] = set()
    for circuit in DestinationCircuit.objects.filter(open_until__isnull=False):
        if circuit.open_until is not None and circuit.open_until > now:
            blocked.add(circuit.destination_id)
            continue
        # Conditional update: of all concurrent claimants exactly one wins the probe.
        won = DestinationCircuit.objects.filter(
            Q(probe_until__isnull=True) | Q(probe_until__lt=now), pk=circuit.pk, open_until__lte=now
        ).update(probe_until=now + lease)
        (probes if won else blocked).add(circuit.destination_id)
    return blocked, probes


def circuit_release_probe(*, destination_id: int) -> None:
    """Give the probe back when no message was found to send with it."""
    DestinationCircuit.objects.filter(destination_id=destination_id).update(probe_until=None)


def circuit_record(*, destination_id: int, succeeded: bool, now: datetime) -> None:
    """After an attempt: a success closes an open circuit; a failure re-opens it, or opens a
    closed one when the recent failure rate reaches the threshold."""
    reset = timedelta(milliseconds=settings.CIRCUIT_BREAKER_RESET_TIMEOUT)
    opened = DestinationCircuit.objects.filter(destination_id=destination_id, open_until__isnull=False)
    if succeeded:
        opened.update(open_until=None, probe_until=None, closed_at=now)
        return
    if opened.update(open_until=now + reset, probe_until=None):
        return
    circuit, _ = DestinationCircuit.objects.get_or_create(destination_id=destination_id)
    since = now - timedelta(seconds=settings.CIRCUIT_BREAKER_WINDOW_SECONDS)
    if circuit.closed_at:
        since = max(since, circuit.closed_at)
    recent = DeliveryAttempt.objects.filter(destination_id=destination_id, attempted_at__gte=since).exclude(
        error__startswith=UNSENDABLE).aggregate(
        total=Count("id"), failed=Count("id", filter=Q(succeeded=False))
    )
    if recent["total"] < settings.CIRCUIT_BREAKER_MIN_ATTEMPTS:
        return
    if recent["failed"] * 100 >= settings.CIRCUIT_BREAKER_ERROR_THRESHOLD * recent["total"]:
        DestinationCircuit.objects.filter(pk=circuit.pk, open_until__isnull=True).update(open_until=now + reset)


def circuit_probe_now(*, destination_ids: list[int], now: datetime) -> int:
    """An operator's "probe now": the open circuit turns half-open at once, so the next claim sends
    one probe message. Returns how many circuits were open."""
    return DestinationCircuit.objects.filter(destination_id__in=destination_ids, open_until__gt=now).update(
        open_until=now, probe_until=None)


def circuit_close(*, destination_ids: list[int], now: datetime) -> int:
    """An operator's "close": deliveries resume at once; failures before now no longer count."""
    return DestinationCircuit.objects.filter(destination_id__in=destination_ids, open_until__isnull=False).update(
        open_until=None, probe_until=None, closed_at=now)
