"""Reads about the outbox, for the admin and for metrics."""

from datetime import datetime

from django.db import connection
from django.db.models import Count, Min

from webhooks.models import DestinationCircuit, OutboxMessage


def outbox_backlog() -> dict[tuple[str, str], int]:
    """PENDING and DEAD_LETTER messages by (destination name, status), read at call time. Delivered ones
    are left out: counting them scanned the whole table on every scrape (they are counted as they
    happen, in hub_outbox_delivery_attempts_total)."""
    rows = (OutboxMessage.objects.filter(status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.DEAD_LETTER])
            .values("destination__name", "status").annotate(n=Count("id")).order_by())
    return {(row["destination__name"], row["status"]): row["n"] for row in rows}


def circuit_states() -> dict[str, str]:
    """'closed', 'open' or 'half-open' per destination."""
    return {c.destination.name: c.state for c in DestinationCircuit.objects.select_related("destination")}


def oldest_pending_by_destination() -> dict[str, datetime]:
    """When each destination's oldest pending message was created (the claim index's rows only)."""
    rows = (OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).values("destination__name")
            .annotate(oldest=Min("created_at")).order_by())
    return {row["destination__name"]: row["oldest"] for row in rows}


LISTENER_APPLICATION_NAME = "hub-outbox-dispatcher"  # how PostgreSQL lists a dispatcher's LISTEN connection


def listening_dispatchers() -> int:
    """How many `run_outbox_dispatcher` processes are listening on this database right now. With none
    listening, deliveries wait for the sweep."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND application_name = %s", [LISTENER_APPLICATION_NAME])
        (count,) = cursor.fetchone()
        return int(count)
