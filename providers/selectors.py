"""Reads of provider data for the APIs and the admin."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from providers.models import InboundWebhook, Order


def inbound_counts_by_outcome(*, provider: str, since: datetime) -> dict[str, int]:
    """Inbound webhooks of one provider received since `since`, counted by outcome (every outcome
    present, zero included)."""
    rows = (InboundWebhook.objects.filter(provider=provider, received_at__gte=since)
            .values("outcome").annotate(n=Count("id")).order_by())
    return {outcome: 0 for outcome in InboundWebhook.Outcome.values} | {row["outcome"]: row["n"] for row in rows}


def near_deadline_cutoff(now: datetime | None = None) -> datetime:
    """Undecided orders whose deadline falls before this are near it (ORDER_NEAR_DEADLINE_SECONDS)."""
    return (now or timezone.now()) + timedelta(seconds=settings.ORDER_NEAR_DEADLINE_SECONDS)


def undecided_orders(*, near_deadline: bool | None = None, orders: QuerySet[Order] | None = None) -> QuerySet[Order]:
    """NEW orders with a provider deadline (of `orders`, default all); with `near_deadline`, only those
    (not) within its margin."""
    orders = (Order.objects.all() if orders is None else orders).filter(status=Order.Status.NEW,
                                                                         deadline_at__isnull=False)
    if near_deadline is None:
        return orders
    return orders.filter(deadline_at__lte=near_deadline_cutoff()) if near_deadline else orders.filter(
        deadline_at__gt=near_deadline_cutoff())


def undecided_orders_by_provider() -> dict[tuple[str, bool], int]:
    """(provider, near its deadline) → how many NEW orders wait for a decision; one aggregate query."""
    cutoff = near_deadline_cutoff()
    rows = (undecided_orders().values("provider")
            .annotate(near=Count("id", filter=Q(deadline_at__lte=cutoff)), total=Count("id")).order_by())
    counts: dict[tuple[str, bool], int] = {}
    for row in rows:
        counts[(row["provider"], True)] = row["near"]
        counts[(row["provider"], False)] = row["total"] - row["near"]
    return counts
