"""Orders from provider events: create, map products, move along the lifecycle, tell the backend.

Runs inside the intake's transaction, so the audit row, the order change and its outbox message
commit together or not at all.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from hub.json_input import storable
from providers.adapters import ADAPTERS
from providers.adapters.base import ProviderEvent
from providers import statements
from providers.models import InboundWebhook, Order, OrderEvent
from webhooks.outbox import outbox_enqueue, outbox_insert, outbox_inserted

Status = Order.Status
RANK: dict[str, int] = {Status.NEW: 0, Status.ACCEPTED: 1, Status.PREPARING: 2, Status.READY: 3, Status.PICKED_UP: 4, Status.DELIVERED: 5}
FINAL = {Status.DELIVERED, Status.CANCELLED}


class UnknownOrder(Exception):
    pass


class ForeignOrder(Exception):
    """A status update for an order of another branch than the one that authenticated."""


def can_move(current: str, new: str) -> bool:
    """Forward only; CANCELLED from any open status; nothing leaves DELIVERED or CANCELLED.
    A late, older status is therefore never applied (it is still kept as an event)."""
    if not new or current in FINAL or new == current:
        return False
    return new == Status.CANCELLED or RANK[new] > RANK[current]


def _walk(entries: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for entry in entries:
        yield entry
        yield from _walk(entry.get("modifiers", []))


def apply_product_mappings(*, provider: str, order: dict[str, Any]) -> None:
    """Fill productId from the mapping table; an unmapped item passes through with a warning."""
    entries = list(_walk(order["items"]))
    keys = {key for entry in entries for key in entry.get("mappingKeys") or [entry["externalId"]]}
    mapped = statements.product_ids(provider=provider, external_ids=keys)
    for entry in entries:
        candidates = entry.pop("mappingKeys", None) or [entry["externalId"]]
        entry["productId"] = next((mapped[key] for key in candidates if key in mapped), None)
        if entry["productId"] is None:
            order["warnings"].append(f"unmapped item {candidates[0]!r} ({entry['name']}) passed through")


def status_message(order: Order, previous: str, occurred_at: datetime | None) -> dict[str, Any]:
    return {"orderId": str(order.id), "provider": order.provider, "externalOrderId": order.external_order_id,
            "status": order.status, "previousStatus": previous, "occurredAt": occurred_at.isoformat() if occurred_at else None}


@dataclass(frozen=True)
class NewOrder:
    """An order_created event's rows, not written yet: the order, its first event and the backend's message."""

    order: Order
    event: OrderEvent
    message: dict[str, Any]  # outbox_enqueue's / outbox_insert's arguments


def new_order(*, provider: str, event: ProviderEvent, webhook_id: UUID) -> NewOrder:
    """The rows an order_created event makes, products mapped (one query)."""
    data = event.order
    if data is None:
        raise ValueError("an order_created event carries its order")
    apply_product_mappings(provider=provider, order=data)
    order = Order(provider=provider, external_order_id=event.external_order_id, branch_id=data["branchId"],
                  currency=data["currency"], total_minor=data["totals"]["totalMinor"], warnings=data["warnings"],
                  placed_at=event.occurred_at, provider_refs=storable(event.provider_refs),
                  deadline_at=ADAPTERS[provider].deadline_of(event, timezone.now()))
    # Passed-through sections (an address with coordinates) may hold the provider's JSON numbers.
    order.data = storable({"id": str(order.id), **{k: v for k, v in data.items() if k != "warnings"},
                           "status": Status.NEW, "warnings": data["warnings"]})
    first_event = OrderEvent(order=order, event_type=event.event_type, provider_status=event.provider_status,
                             status=Status.NEW, applied=True, occurred_at=event.occurred_at, webhook_id=webhook_id)
    return NewOrder(order=order, event=first_event, message={
        "destination": "backend", "event_type": "order.created", "data": order.data, "path": "/api/v1/orders",
        "ordering_key": f"order:{order.id}", "occurred_at": event.occurred_at})


def order_create(*, provider: str, event: ProviderEvent, audit: InboundWebhook) -> Order:
    """The order of an order_created event, with its first event, the backend's message and `audit` (the
    request's audit row, not written yet), in one statement (`providers.statements.new_order`)."""
    rows = new_order(provider=provider, event=event, webhook_id=audit.id)
    message = outbox_insert(**rows.message)
    message_id = statements.new_order(audit_row=audit, order=rows.order, event=rows.event, message=message)
    outbox_inserted(message_id)
    return rows.order


@transaction.atomic(savepoint=False)
def order_apply_status(*, provider: str, event: ProviderEvent, webhook_id: UUID,
                       acting_branch: str = "") -> tuple[Order, bool]:
    """Record the event; move the order and tell the backend only when the lifecycle allows.
    With `acting_branch` (a branch authenticated with its own secret) only that branch's orders."""
    orders = Order.objects.select_for_update()
    order = (orders.filter(id=event.hub_order_id, provider=provider).first() if event.hub_order_id
             else orders.filter(provider=provider, external_order_id=event.external_order_id).first())
    if order is None:
        raise UnknownOrder(event.hub_order_id or event.external_order_id)
    if acting_branch and order.branch_id != acting_branch:
        raise ForeignOrder(str(order.id))
    previous = order.status
    applied = can_move(previous, event.status)
    OrderEvent.objects.create(order=order, event_type=event.event_type, provider_status=event.provider_status,
                              status=event.status, previous_status=previous, applied=applied,
                              occurred_at=event.occurred_at, webhook_id=webhook_id)
    if applied:
        order.status = event.status
        order.data = {**order.data, "status": event.status}
        order.save(update_fields=["status", "data", "updated_at"])
        outbox_enqueue(destination="backend", event_type="order.status_changed",
                       data=status_message(order, previous, event.occurred_at),
                       path=f"/api/v1/orders/{order.id}/status", ordering_key=f"order:{order.id}",
                       occurred_at=event.occurred_at)
    return order, applied
