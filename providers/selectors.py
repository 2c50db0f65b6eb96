"""Reads of provider data for the APIs and the admin."""

from datetime import datetime

from django.db.models import Count

from providers.models import InboundWebhook


def inbound_counts_by_outcome(*, provider: str, since: datetime) -> dict[str, int]:
    """Inbound webhooks of one provider received since `since`, counted by outcome (every outcome
    present, zero included)."""
    rows = (InboundWebhook.objects.filter(provider=provider, received_at__gte=since)
            .values("outcome").annotate(n=Count("id")).order_by())
    return {outcome: 0 for outcome in InboundWebhook.Outcome.values} | {row["outcome"]: row["n"] for row in rows}
