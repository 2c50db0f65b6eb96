"""Provider webhook intake: every request is checked in order and leaves one audit row.

404 unknown provider → 413 over 1 MiB → 401 IP not allowed → 429 rate limit → 401 provider
disabled, unknown branch or bad credentials (one body for all) → 400 malformed JSON → 422 invalid
(every error) → accepted or duplicate. Acceptance writes the audit row, the order change and its
outbox message in one transaction; the unique (provider, dedupe key) of accepted rows makes a
provider's retry, even a concurrent one, a duplicate that creates and forwards nothing.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction

from hub import errors, metrics
from hub.logs import redact
from hub.ratelimit import rate_limit_hit
from providers.adapters import careem, talabat
from providers.adapters.base import AdapterErrors, Context, ProviderEvent
from providers.models import Branch, Order, Provider
from providers.services import UnknownOrder, order_apply_status, order_create
from webhooks.auth import authenticated, client_ip, ip_allowed
from webhooks.models import InboundWebhook

Outcome = InboundWebhook.Outcome
logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Route:
    """How one URL reads its payload."""

    parse: Callable[[Any, Context], ProviderEvent]
    branch_of: Callable[[Any, Context], str]
    plugin_dispatch: bool = False  # Talabat's plugin answers 202 {"remoteOrderId"}


ROUTES: dict[tuple[str, str], Route] = {
    ("careem", "generic"): Route(careem.parse, lambda payload, _: careem.branch_id_of(payload)),
    ("talabat", "generic"): Route(talabat.parse_dispatch, talabat.branch_id_of),
    ("talabat", "dispatch"): Route(talabat.parse_dispatch, talabat.branch_id_of, plugin_dispatch=True),
    ("talabat", "status"): Route(talabat.parse_status, talabat.branch_id_of),
}


@dataclass
class Inbound:
    provider: str
    route: str
    method: str
    path: str
    headers: Any  # case-insensitive mapping
    body: bytes
    remote_addr: str
    too_large: bool = False
    declared_size: int = 0
    context: Context = field(default_factory=Context)
    correlation_id: str = ""

    @cached_property
    def client_address(self) -> str:
        """X-Forwarded-For counts only as far as it comes from TRUSTED_PROXIES."""
        return client_ip(remote_addr=self.remote_addr, forwarded_for=self.headers.get("X-Forwarded-For", ""),
                         trusted_proxies=settings.TRUSTED_PROXIES)


@dataclass(frozen=True)
class IntakeAnswer:
    status: int
    body: dict
    headers: dict = field(default_factory=dict)


def _audit(inbound: Inbound, outcome: str, status: int, *, authenticated_body: bool = False, dedupe_key: str = "",
           errors_: list | None = None, duplicate_of=None) -> InboundWebhook:
    metrics.INTAKE.labels(inbound.provider if inbound.provider in settings.PROVIDER_INTAKE else "unknown", outcome).inc()
    return InboundWebhook.objects.create(
        provider=inbound.provider[:32], method=inbound.method, path=inbound.path[:300],
        remote_ip=inbound.client_address or None,
        headers=redact(dict(inbound.headers.items())),
        body=inbound.body.decode("utf-8", errors="replace") if authenticated_body else "",
        body_sha256=hashlib.sha256(inbound.body).hexdigest(), body_size=inbound.declared_size or len(inbound.body),
        outcome=outcome, status_code=status, errors=errors_ or [], dedupe_key=dedupe_key, duplicate_of=duplicate_of,
        correlation_id=inbound.correlation_id,
    )


def _reject(inbound: Inbound, outcome: str, error: errors.ApplicationError, **audit) -> IntakeAnswer:
    _audit(inbound, outcome, error.status_code, **audit)
    logger.info("webhook_rejected", provider=inbound.provider, outcome=outcome)
    return IntakeAnswer(error.status_code, error.as_body(), error.headers)


def intake_receive(inbound: Inbound) -> IntakeAnswer:
    route = ROUTES.get((inbound.provider, inbound.route))
    config = settings.PROVIDER_INTAKE.get(inbound.provider)
    if route is None or config is None:
        return _reject(inbound, Outcome.NOT_FOUND, errors.NotFound("Unknown provider."))
    if inbound.too_large:
        return _reject(inbound, Outcome.TOO_LARGE, errors.PayloadTooLarge("The body is larger than 1 MiB."))
    if not ip_allowed(inbound.client_address, config["ip_allowlist"]):
        return _reject(inbound, Outcome.UNAUTHORIZED, errors.Unauthorized(), errors_=[{"field": "ip", "message": "not allowed"}])
    allowed, retry_after = rate_limit_hit(key=f"webhooks:{inbound.provider}", limit=settings.WEBHOOK_RATE_LIMIT,
                                          window_ms=settings.WEBHOOK_RATE_WINDOW_MS)
    if not allowed:
        return _reject(inbound, Outcome.RATE_LIMITED, errors.RateLimited(headers={"Retry-After": str(retry_after)}))

    try:
        payload = json.loads(inbound.body, parse_float=Decimal)
    except (ValueError, RecursionError):
        payload = None
    branch_id = route.branch_of(payload, inbound.context) if isinstance(payload, dict) else inbound.context.branch_id
    branch = Branch.objects.filter(provider__name=inbound.provider, external_id=branch_id).first() if branch_id else None
    provider = Provider.objects.filter(name=inbound.provider).first()
    credentials_ok = (
        provider is not None and provider.enabled
        and (not branch_id or (branch is not None and branch.enabled))
        and authenticated(mode=config["auth_mode"], provider=inbound.provider,
                          secret=(branch.secret if branch and branch.secret else config["secret"]),
                          headers=inbound.headers, body=inbound.body)
    )
    if not credentials_ok:
        return _reject(inbound, Outcome.UNAUTHORIZED, errors.Unauthorized())
    if payload is None:
        return _reject(inbound, Outcome.MALFORMED, errors.MalformedJson(), authenticated_body=True)

    inbound.context.branch_currency = branch.currency if branch else ""
    inbound.context.default_currency = config["default_currency"]
    try:
        event = route.parse(payload, inbound.context)
    except AdapterErrors as exc:
        _audit(inbound, Outcome.INVALID, 422, authenticated_body=True, errors_=exc.errors)
        return IntakeAnswer(422, {"success": False, "errors": exc.errors})
    return _accept(inbound, route, event)


def _accept(inbound: Inbound, route: Route, event: ProviderEvent) -> IntakeAnswer:
    try:
        with transaction.atomic():
            audit = _audit(inbound, Outcome.ACCEPTED, 202 if route.plugin_dispatch else 200,
                           authenticated_body=True, dedupe_key=event.dedupe_key[:300])
            order = None
            if event.kind == "order_created":
                order = order_create(provider=inbound.provider, event=event, webhook_id=audit.id)
            elif event.kind == "status_update":
                order, _ = order_apply_status(provider=inbound.provider, event=event, webhook_id=audit.id)
    except UnknownOrder:
        problem = [{"field": "order", "message": "no such order; send the order before its status"}]
        _audit(inbound, Outcome.INVALID, 422, authenticated_body=True, errors_=problem)
        return IntakeAnswer(422, {"success": False, "errors": problem})
    except IntegrityError:
        return _duplicate(inbound, route, event)
    if route.plugin_dispatch:
        return IntakeAnswer(202, {"remoteOrderId": str(order.id)})
    return IntakeAnswer(200, {"success": True, "webhookId": str(audit.id), "status": "processed"})


def _duplicate(inbound: Inbound, route: Route, event: ProviderEvent) -> IntakeAnswer:
    first = InboundWebhook.objects.filter(
        provider=inbound.provider, dedupe_key=event.dedupe_key[:300], outcome=Outcome.ACCEPTED
    ).first()
    _audit(inbound, Outcome.DUPLICATE, 200, authenticated_body=True, dedupe_key=event.dedupe_key[:300],
           duplicate_of=first.id if first else None)
    body = {"success": True, "duplicate": True, "webhookId": str(first.id) if first else None, "status": "processed"}
    if route.plugin_dispatch:
        order = Order.objects.filter(provider=inbound.provider, external_order_id=event.external_order_id).first()
        return IntakeAnswer(202, {**body, "remoteOrderId": str(order.id) if order else None})
    return IntakeAnswer(200, body)
