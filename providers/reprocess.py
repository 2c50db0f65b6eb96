"""Reprocessing failed inbound webhooks: requests that were authenticated, then failed to process.

Each is run again from its stored body, route and context, without authenticating again (it was
authenticated when it arrived; its stored headers are redacted). A row is claimed with a
conditional update, so two reprocessing runs never process it twice, and the order dedupe holds:
a request whose order meanwhile arrived through a provider retry becomes a duplicate.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from hub import errors
from hub.json_input import load_json
from providers.adapters import ADAPTERS
from providers.adapters.base import Context
from providers.intake import Inbound, intake_process
from providers.models import InboundWebhook

Outcome = InboundWebhook.Outcome


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
    claimed = InboundWebhook.objects.filter(id=webhook.id, outcome=Outcome.FAILED, reprocessed_at__isnull=True).update(
        reprocessed_at=timezone.now()
    )
    if not claimed:
        return None
    inbound = Inbound(
        provider=webhook.provider, route=webhook.route, method=webhook.method, path=webhook.path,
        headers=webhook.headers, body=webhook.body.encode(), client_address=webhook.remote_ip or "",
        context=Context(**webhook.context), correlation_id=webhook.correlation_id,
    )
    try:
        intake_process(inbound, ADAPTERS[webhook.provider].routes[webhook.route], load_json(webhook.body))
    except errors.ApplicationError:
        pass  # refused (another branch's order): audited like any answer
    InboundWebhook.objects.filter(id=webhook.id).update(reprocessed_as=inbound.audit_id)
    outcome, status = (InboundWebhook.objects.filter(id=inbound.audit_id).values_list("outcome", "status_code")
                       .first() or ("", 0))
    return Reprocessed(webhook_id=str(webhook.id), outcome=outcome, status=status)


def inbound_reprocess_all(*, webhooks: QuerySet[InboundWebhook]) -> list[Reprocessed]:
    """Every failed, not yet reprocessed webhook of `webhooks`, oldest first."""
    pending = list(webhooks.filter(outcome=Outcome.FAILED, reprocessed_at__isnull=True).order_by("received_at"))
    return [result for webhook in pending if (result := inbound_reprocess(webhook=webhook))]
