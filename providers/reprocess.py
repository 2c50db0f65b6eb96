"""Reprocessing failed inbound webhooks: requests that were authenticated, then failed to process.

Each is run again from its stored body (the bytes that arrived, decoded as on arrival), route and
context, without authenticating again (it was authenticated when it arrived; its stored headers are
redacted). A row is claimed with a conditional update only once its body reads, so two reprocessing
runs never process it twice, and the order dedupe holds: a request whose order meanwhile arrived
through a provider retry becomes a duplicate. A row that cannot be run stays failed and offered,
with the new error; none is left claimed and unprocessed.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

import structlog

from hub import errors
from hub.db import describe_error
from hub.json_input import NotJson, TooDeep, load_json
from providers.adapters import ADAPTERS
from providers.adapters.base import Context
from providers.intake import Inbound, intake_process
from providers.models import InboundWebhook

Outcome = InboundWebhook.Outcome
logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Reprocessed:
    webhook_id: str
    outcome: str  # the outcome of the new audit row: accepted, duplicate, invalid or failed again
    status: int


def failed_webhooks(*, provider: str | None = None, since: datetime | None = None) -> QuerySet[InboundWebhook]:
    pending = InboundWebhook.objects.filter(outcome=Outcome.FAILED, reprocessed_at__isnull=True)
    if provider:
        pending = pending.filter(provider=provider)
    if since:
        pending = pending.filter(received_at__gte=since)
    return pending.order_by("received_at")


def inbound_reprocess(*, webhook: InboundWebhook) -> Reprocessed | None:
    """Run one failed webhook again; None when another run took it first."""
    # rows kept before the raw bytes were: their text, re-encoded, reads as on arrival (a BOM included)
    body = bytes(webhook.raw_body) if webhook.raw_body is not None else webhook.body.encode()
    try:
        payload = load_json(body)
        route = ADAPTERS[webhook.provider].routes[webhook.route]
        context = Context(**webhook.context)
    except (NotJson, TooDeep, KeyError, TypeError) as exc:
        return _still_failed(webhook, f"cannot be reprocessed: {type(exc).__name__}: {exc}"[:500], claimed=False)
    claimed = InboundWebhook.objects.filter(id=webhook.id, outcome=Outcome.FAILED, reprocessed_at__isnull=True).update(
        reprocessed_at=timezone.now()
    )
    if not claimed:
        return None
    inbound = Inbound(
        provider=webhook.provider, route=webhook.route, method=webhook.method, path=webhook.path,
        headers=webhook.headers, body=body, client_address=webhook.remote_ip or "",
        context=context, correlation_id=webhook.correlation_id,
    )
    try:
        intake_process(inbound, route, payload)
    except errors.ApplicationError:
        pass  # refused (another branch's order): audited like any answer
    except Exception as exc:  # noqa: BLE001 - whatever it was, the row is offered again with it
        return _still_failed(webhook, f"reprocessing failed: {describe_error(exc)}"[:500], claimed=True)
    InboundWebhook.objects.filter(id=webhook.id).update(reprocessed_as=inbound.audit_id)
    outcome, status = (InboundWebhook.objects.filter(id=inbound.audit_id).values_list("outcome", "status_code")
                       .first() or ("", 0))
    return Reprocessed(webhook_id=str(webhook.id), outcome=outcome, status=status)


def _still_failed(webhook: InboundWebhook, error: str, *, claimed: bool) -> Reprocessed:
    """The row stays failed and offered for the next reprocessing, with the error it met this time."""
    logger.warning("webhook_reprocessing_failed", webhook_id=str(webhook.id), error=error)
    rows = InboundWebhook.objects.filter(id=webhook.id, outcome=Outcome.FAILED)
    rows.update(errors=[*webhook.errors, {"field": "reprocessing", "message": error}][-10:],
                **({"reprocessed_at": None} if claimed else {}))
    return Reprocessed(webhook_id=str(webhook.id), outcome=Outcome.FAILED, status=0)


def inbound_reprocess_all(*, webhooks: QuerySet[InboundWebhook]) -> list[Reprocessed]:
    """Every failed, not yet reprocessed webhook of `webhooks`, oldest first."""
    pending = list(webhooks.filter(outcome=Outcome.FAILED, reprocessed_at__isnull=True).order_by("received_at"))
    return [result for webhook in pending if (result := inbound_reprocess(webhook=webhook))]
