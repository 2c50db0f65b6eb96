"""Reads about the outbox, for the admin and for metrics."""

from django.db.models import Count

from webhooks.models import DestinationCircuit, OutboxMessage


def outbox_backlog() -> dict[tuple[str, str], int]:
    """Message count by (destination name, status), read at call time."""
    rows = OutboxMessage.objects.values("destination__name", "status").annotate(n=Count("id")).order_by()
    return {(row["destination__name"], row["status"]): row["n"] for row in rows}


def circuit_states() -> dict[str, str]:
    """'closed', 'open' or 'half-open' per destination."""
    return {c.destination.name: c.state for c in DestinationCircuit.objects.select_related("destination")}

