"""Thin events (Uber Eats): the webhook only names an order; the worker fetches it, and only then is
it an order (SPEC §7).

Intake answers such an event at once and writes, in one transaction with its audit row, an outbox
message to the provider's destination that keeps what the fetch needs: the order's id, the event's
audit row and route, and the intake context. `providers.calls` sends the GET like any provider call
(to the configured API URL only, with the cached bearer token, on the destination's retries and
circuit) and hands a 2xx answer to `fetched`: the adapter's `fetched_route` reads it through
`intake_process`, with an audit row of its own (the GET and the order it brought) and the same dedupe,
so two events about one order create it once. An answer that is not JSON is retried; an order the
adapter refuses (invalid, nested too deep, larger than a webhook body) fails the fetch for good. Once the fetch is a dead letter, `fetch_dead_lettered` turns
its event's audit row into a failed inbound webhook, offered for reprocessing, which fetches again.
"""

from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

import requests
import structlog
from django.utils import timezone

from hub import errors, http
from hub.json_input import NotJson, TooDeep, load_json
from providers.adapters.base import Context, ProviderAdapter, ProviderCall, ProviderEvent
from providers.destinations import ensure_provider_destination
from providers.intake import Inbound, intake_process
from providers.models import InboundWebhook
from webhooks.delivery import EXCERPT_BYTES
from webhooks.models import OutboxMessage
from webhooks.outbox import outbox_enqueue

Outcome = InboundWebhook.Outcome
logger = structlog.get_logger(__name__)
MAX_KEPT_ERRORS = 10


def enqueue_fetch(*, adapter: ProviderAdapter, event: ProviderEvent, webhook_id: Any, route: str,
                  context: Context) -> None:
    """The fetch of the order a thin event announced, in the caller's transaction. The deadline counts
    from the first notification: a reprocessed event keeps its `notified_at`."""
    ensure_provider_destination(adapter)
    context.notified_at = context.notified_at or timezone.now().isoformat()
    outbox_enqueue(destination=adapter.name, event_type="order.fetch",
                   ordering_key=f"order:{adapter.name}:{event.external_order_id}:fetch",
                   data={"fetch": {"externalOrderId": event.external_order_id, "webhookId": str(webhook_id),
                                   "route": route, "context": asdict(context)}})


def fetched(adapter: ProviderAdapter, message: OutboxMessage, call: ProviderCall,
            response: requests.Response) -> dict[str, Any]:
    """What became of a fetch the provider answered 2xx: `DeliveryResult` fields."""
    answer: dict[str, Any] = {"status_code": response.status_code,
                              "excerpt": response.content[:EXCERPT_BYTES].decode("utf-8", errors="replace")}
    if http.truncated(response):
        return {**answer, "permanent": True, "error": "the fetched order is larger than a webhook body may be"}
    try:
        payload = load_json(response.content)
    except NotJson:  # a proxy's error page, a cut answer: another try may get the order
        return {**answer, "error": "the answer is not JSON"}
    except TooDeep as exc:
        return {**answer, "permanent": True, "error": f"the fetched order is refused: {exc}"}
    data = message.payload["fetch"]
    inbound = Inbound(provider=adapter.name, route=adapter.fetched_route, method="GET",
                      path=urlsplit(call.url).path, headers=response.headers, body=response.content,
                      client_address="", context=Context(**data["context"]), correlation_id=message.correlation_id)
    try:
        result = intake_process(inbound, adapter.routes[adapter.fetched_route], payload)
    except errors.ApplicationError as exc:  # another branch's order (audited)
        return {**answer, "permanent": True, "error": f"the fetched order was refused: {exc.message}"}
    if result.outcome == Outcome.INVALID:
        problems = "; ".join(f"{p['field']}: {p['message']}" for p in result.problems)
        return {**answer, "permanent": True, "error": f"the fetched order is invalid: {problems}"[:1000]}
    # A dead-lettered fetch replayed from the outbox: its event is no longer waiting for reprocessing.
    InboundWebhook.objects.filter(id=data["webhookId"], outcome=Outcome.FAILED, reprocessed_at__isnull=True).update(
        reprocessed_at=timezone.now(), reprocessed_as=inbound.audit_id)
    return {**answer, "succeeded": True}  # accepted, a duplicate, or kept as a failed webhook of its own


def fetch_dead_lettered(message: OutboxMessage, error: str) -> None:
    """The outbox gave up on a fetch: its event becomes a failed inbound webhook (reprocessing fetches
    again). Runs in the transaction that makes the message a dead letter."""
    data = message.payload.get("fetch") if isinstance(message.payload, dict) else None
    if not data:
        return
    event = InboundWebhook.objects.filter(id=data["webhookId"], outcome=Outcome.ACCEPTED).first()
    if event is None:
        return
    problem = {"field": "fetch", "message": f"the order could not be fetched: {error}"[:500]}
    InboundWebhook.objects.filter(id=event.id, outcome=Outcome.ACCEPTED).update(  # its body is what reprocessing reads
        outcome=Outcome.FAILED, route=data["route"], context=data["context"], errors=[*event.errors, problem][-MAX_KEPT_ERRORS:])
    logger.warning("order_fetch_failed", provider=message.destination.name, webhook_id=str(event.id),
                   order=data["externalOrderId"])
