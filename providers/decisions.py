"""The restaurant's decisions on an order (accept, reject, ready, picked up), and their calls to the provider.

One transaction: the order row is locked, the decision recorded once per action, the order moved
along its lifecycle with an event, and the provider's call written to the outbox (ordering key
`order:<id>:provider`, so an acceptance always precedes the same order's ready; a backend outage
cannot hold the provider's calls back). Callers: the decision API (the backend), the admin, and
auto-accepting branches at intake.
"""

from dataclasses import dataclass
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from hub import errors
from providers.adapters import ADAPTERS
from providers.adapters.base import REJECT_REASONS, Decision, NoCall
from providers.destinations import ensure_provider_destination
from providers.models import Branch, Order, OrderDecision, OrderEvent
from providers.services import status_message
from webhooks.outbox import outbox_enqueue

Status = Order.Status
Action = OrderDecision.Action
DEFAULT_PREPARATION_MINUTES = 20
ALLOWED_FROM: dict[str, set[str]] = {
    Action.ACCEPT: {Status.NEW},
    Action.REJECT: {Status.NEW, Status.ACCEPTED, Status.PREPARING},
    Action.READY: {Status.ACCEPTED, Status.PREPARING},
    Action.PICKED_UP: {Status.ACCEPTED, Status.PREPARING, Status.READY},
}
MOVES_TO: dict[str, str] = {Action.ACCEPT: Status.ACCEPTED, Action.REJECT: Status.CANCELLED, Action.READY: Status.READY,
            Action.PICKED_UP: Status.PICKED_UP}


class OrderNotFound(errors.NotFound):
    code = "ORDER_NOT_FOUND"
    message = "No such order."


class InvalidTransition(errors.Conflict):
    code = "INVALID_TRANSITION"
    message = "The order's lifecycle does not allow this action now."


class InvalidReason(errors.ApplicationError):
    status_code = 422
    code = "INVALID_REASON"
    message = "The reason is not one of the reject reasons."


@dataclass(frozen=True)
class DecisionResult:
    order_id: UUID
    action: str
    status: str  # the order's lifecycle status after the decision
    duplicate: bool
    call: str  # OrderDecision.Call


def preparation_minutes_for(order: Order, requested: int | None) -> int:
    if requested is not None:
        return requested
    branch = Branch.objects.filter(provider__name=order.provider, external_id=order.branch_id).first()
    return (branch.preparation_minutes if branch and branch.preparation_minutes else None) or DEFAULT_PREPARATION_MINUTES


@transaction.atomic  # a savepoint when nested: a refusal must not break the caller's transaction
def order_decide(*, order_id: UUID | str, action: str, decided_by: str, reason: str = "", message: str = "",
                 preparation_minutes: int | None = None, notify_backend: bool = False) -> DecisionResult:
    """Record the decision and queue its call to the provider. The same action twice is a duplicate
    (nothing more is sent); `notify_backend` tells the restaurant backend too (decisions it did not make)."""
    order = Order.objects.select_for_update().filter(id=order_id).first()
    if order is None:
        raise OrderNotFound()
    if existing := order.decisions.filter(action=action).first():
        return DecisionResult(order_id=order.id, action=action, status=order.status, duplicate=True, call=existing.call)
    if action == Action.REJECT and reason not in REJECT_REASONS:
        raise InvalidReason(details={"reasons": sorted(REJECT_REASONS)})
    if order.status not in ALLOWED_FROM[action]:
        raise InvalidTransition(details={"status": order.status, "action": action})

    decision = Decision(action=action, hub_order_id=str(order.id), external_order_id=order.external_order_id,
                        branch_id=order.branch_id, provider_refs=order.provider_refs, reason=reason, message=message,
                        preparation_minutes=preparation_minutes_for(order, preparation_minutes),
                        order_status=order.status, decided_at=timezone.now())
    adapter = ADAPTERS[order.provider]
    call = adapter.decision_call(decision)
    fate = call.call if isinstance(call, NoCall) else OrderDecision.Call.QUEUED
    event_ids = []
    if isinstance(call, NoCall):
        if fate == OrderDecision.Call.REFUSED:
            order.flag = call.explanation
    else:
        ensure_provider_destination(adapter)
        for step, each in enumerate(call if isinstance(call, tuple) else (call,)):  # one ordering key: in order
            event_ids.append(outbox_enqueue(
                destination=adapter.name, event_type=f"order.{action}", ordering_key=f"order:{order.id}:provider",
                data={"orderId": str(order.id), "action": action, "method": each.method, "url": each.url,
                      "decision": decision.as_data(), "step": step},  # rendered anew at each send (providers.calls)
            ).event_id)
    event_id = event_ids[0] if event_ids else ""  # the first call; the others follow it on the ordering key
    OrderDecision.objects.create(
        order=order, action=action, reason=reason, message=message[:500], decided_by=decided_by[:150],
        preparation_minutes=decision.preparation_minutes if action == Action.ACCEPT else None,
        call=fate, outbox_event_id=event_id)
    previous, order.status = order.status, MOVES_TO[action]
    order.data = {**order.data, "status": order.status}
    order.save(update_fields=["status", "data", "flag", "updated_at"])
    OrderEvent.objects.create(order=order, event_type=f"decision.{action}", status=order.status,
                              previous_status=previous, applied=True, occurred_at=decision.decided_at)
    if notify_backend:
        outbox_enqueue(destination="backend", event_type="order.status_changed",
                       data=status_message(order, previous, decision.decided_at),
                       path=f"/api/v1/orders/{order.id}/status", ordering_key=f"order:{order.id}",
                       occurred_at=decision.decided_at)
    return DecisionResult(order_id=order.id, action=action, status=order.status, duplicate=False, call=fate)
