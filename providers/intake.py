"""Provider webhook intake: every request is checked in order and leaves one audit row.

404 unknown provider → 413 over 1 MiB → 401 IP not allowed → 401 provider disabled, unknown
branch or bad credentials (one body for all; 429 once an address has failed too often) → 429
provider rate limit → 400 not JSON → 422 invalid (every error) → accepted or duplicate.
Acceptance writes the audit row, the order change and its outbox message in one transaction (a new
order: in one statement, `providers.statements`); the
unique (provider, dedupe key) of accepted rows makes a provider's retry, even a concurrent one, a
duplicate that creates and forwards nothing. A thin event (Uber Eats) writes its audit row and the fetch
of its order (`providers.fetches`); the fetched order comes back through `intake_process`.

After authentication nothing is lost: a request whose processing fails anyway is kept as a
`failed` audit row (raw body, redacted headers, error) and answered 503, so the provider retries;
`reprocess_webhooks` or the admin runs it again once the cause is fixed. Only a database outage
keeps nothing (it is answered 503 as well, and the provider's retry brings the request back).
"""

import hashlib
from dataclasses import asdict, dataclass, field, replace
from typing import Any, NoReturn
from uuid import UUID

import structlog
from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction

from hub import errors, metrics
from hub.db import database_unavailable, describe_error, statement_guard, violates
from hub.json_input import NotJson, TooDeep, body_text, clean_text, load_json
from hub.logs import redact
from hub.ratelimit import rate_limit_hit
from providers.adapters import ADAPTERS
from providers.adapters.base import AdapterErrors, Context, MenuAnswer, ProviderEvent, Route
from providers.answers import intake_status
from providers.auth import authenticated, ip_allowed
from providers.config import intake_settings
from providers.decisions import order_decide
from providers.models import Branch, InboundWebhook, Order, OrderDecision, OrderEvent
from providers import statements
from providers.services import ForeignOrder, UnknownOrder, order_apply_status, order_create

Outcome = InboundWebhook.Outcome
logger = structlog.get_logger(__name__)

MAX_BRANCH_ID_LENGTH = 100  # Branch.external_id
MAX_AUDIT_HEADERS = 50
MAX_AUDIT_HEADER_CHARS = 1024
NOT_JSON = object()


@dataclass
class Inbound:
    provider: str
    route: str
    method: str
    path: str
    headers: Any  # case-insensitive mapping
    body: bytes
    client_address: str  # a valid IP address or ""
    too_large: bool = False
    declared_size: int = 0
    context: Context = field(default_factory=Context)
    correlation_id: str = ""
    audit_id: Any = None  # the audit row this request left, once written


@dataclass(frozen=True, kw_only=True)
class IntakeResult:
    """What became of an authenticated request (`providers.answers` turns it into the provider's answer).
    Refusals before that (unknown provider, too large, unauthenticated, rate limited, not JSON) are
    raised as `hub.errors.ApplicationError`s once their audit row is written."""

    outcome: str  # accepted, duplicate, invalid or failed
    plugin_dispatch: bool = False  # Delivery Hero's POS plugin contract: 202 with remoteOrderId
    empty_answer: bool = False  # Uber Eats: 200 with an empty body
    webhook_id: UUID | None = None  # this request's audit row; a duplicate's: the first request's
    order_id: UUID | None = None
    problems: list[dict[str, str]] = field(default_factory=list)


def _audit_headers(headers: Any) -> dict[str, str]:
    """Redacted, and capped in number and length: an unauthenticated caller chooses them."""
    kept = list(headers.items())[:MAX_AUDIT_HEADERS]
    return redact({clean_text(str(name))[:100]: clean_text(str(value))[:MAX_AUDIT_HEADER_CHARS] for name, value in kept})


def _audit(inbound: Inbound, outcome: str, status: int, **row: Any) -> InboundWebhook:
    audit = _audit_row(inbound, outcome, status, **row)
    statements.audit(audit)
    _audited(inbound, audit)
    return audit


def _audited(inbound: Inbound, audit: InboundWebhook) -> None:
    metrics.INTAKE.labels(inbound.provider if inbound.provider in ADAPTERS else "unknown", audit.outcome).inc()
    inbound.audit_id = audit.id


def _audit_row(inbound: Inbound, outcome: str, status: int, *, authenticated_body: bool = False, dedupe_key: str = "",
               errors_: list | None = None, duplicate_of=None, **failure: Any) -> InboundWebhook:
    return InboundWebhook(
        provider=clean_text(inbound.provider)[:32], method=inbound.method, path=clean_text(inbound.path)[:300],
        remote_ip=inbound.client_address or None, headers=_audit_headers(inbound.headers),
        body=body_text(inbound.body) if authenticated_body else "",
        raw_body=inbound.body if outcome == Outcome.FAILED else None,
        body_sha256=hashlib.sha256(inbound.body).hexdigest(), body_size=inbound.declared_size or len(inbound.body),
        outcome=outcome, status_code=status, errors=errors_ or [], dedupe_key=dedupe_key, duplicate_of=duplicate_of,
        correlation_id=inbound.correlation_id, **failure,
    )


def _reject(inbound: Inbound, outcome: str, error: errors.ApplicationError, **audit: Any) -> NoReturn:
    _audit(inbound, outcome, error.status_code, **audit)
    logger.info("webhook_rejected", provider=inbound.provider, outcome=outcome)
    raise error


def _payload(body: bytes) -> Any:
    try:
        return load_json(body)
    except NotJson:
        return NOT_JSON
    except TooDeep as exc:
        return exc


def _branch(provider: str, branch_id: str) -> Branch | None:
    if not branch_id or len(branch_id) > MAX_BRANCH_ID_LENGTH:
        return None
    return Branch.objects.filter(provider__name=provider, external_id=branch_id).first()


def intake_receive(inbound: Inbound) -> IntakeResult:
    adapter = ADAPTERS.get(inbound.provider)
    route = adapter.routes.get(inbound.route) if adapter else None
    if adapter is None or route is None:
        _reject(inbound, Outcome.NOT_FOUND, errors.NotFound("Unknown provider."))
    config = intake_settings(inbound.provider)
    if inbound.too_large:
        _reject(inbound, Outcome.TOO_LARGE, errors.PayloadTooLarge("The body is larger than 1 MiB."))
    if not ip_allowed(inbound.client_address, config.ip_allowlist):
        _reject(inbound, Outcome.UNAUTHORIZED, errors.Unauthorized(), errors_=[{"field": "ip", "message": "not allowed"}])

    payload = _payload(inbound.body)
    branch_id = adapter.branch_id_of(payload, inbound.context) if isinstance(payload, dict) else inbound.context.branch_id
    branch = _branch(inbound.provider, branch_id)
    credentials_ok = (
        statements.provider_enabled(inbound.provider)
        and (not branch_id or (branch is not None and branch.enabled))
        and authenticated(mode=config.auth_mode, adapter=adapter,
                          secret=(branch.secret if branch and branch.secret else config.secret),
                          headers=inbound.headers, body=inbound.body)
    )
    if not credentials_ok:
        _unauthenticated(inbound)
    allowed, retry_after = rate_limit_hit(key=f"webhooks:{inbound.provider}", limit=settings.WEBHOOK_RATE_LIMIT,
                                          window_ms=settings.WEBHOOK_RATE_WINDOW_MS)
    if not allowed:
        _reject(inbound, Outcome.RATE_LIMITED, errors.RateLimited(headers={"Retry-After": str(retry_after)}))
    if payload is NOT_JSON:
        _reject(inbound, Outcome.MALFORMED, errors.MalformedJson(), authenticated_body=True)
    if isinstance(payload, TooDeep):
        return _invalid(inbound, [{"field": "body", "message": str(payload)}])

    inbound.context.acting_branch = branch.external_id if branch and branch.secret else ""
    inbound.context.branch_currency = branch.currency if branch else ""
    inbound.context.auto_accept = bool(branch and branch.auto_accept)
    inbound.context.location_id = (branch.location_id or "") if branch else ""
    inbound.context.default_currency = config.default_currency
    if adapter.delivery_id_header:
        inbound.context.delivery_id = clean_text(inbound.headers.get(adapter.delivery_id_header, ""))[:200]
    return intake_process(inbound, route, payload)


def _unauthenticated(inbound: Inbound) -> NoReturn:
    """One 401 for every reason; an address that keeps failing gets 429 instead, counted apart
    from the provider's own limit so that it cannot lock the real provider out."""
    allowed, retry_after = rate_limit_hit(
        key=f"webhooks:unauthenticated:{inbound.client_address}", limit=settings.WEBHOOK_UNAUTHENTICATED_RATE_LIMIT,
        window_ms=settings.WEBHOOK_RATE_WINDOW_MS, label="webhooks:unauthenticated",
    )
    if not allowed:
        _reject(inbound, Outcome.RATE_LIMITED, errors.RateLimited(headers={"Retry-After": str(retry_after)}),
                errors_=[{"field": "credentials", "message": "too many failed attempts from this address"}])
    _reject(inbound, Outcome.UNAUTHORIZED, errors.Unauthorized())


def intake_process(inbound: Inbound, route: Route, payload: Any) -> IntakeResult:
    """Parse and store an authenticated request; on any failure but a database outage, keep it."""
    try:
        try:
            event = route.parse(payload, inbound.context)
        except AdapterErrors as exc:
            return _invalid(inbound, exc.errors)
        if event.order is not None:
            event.order["locationId"] = inbound.context.location_id or None
        return _accept(inbound, route, event)
    except errors.ApplicationError:
        raise  # a refusal, audited already
    except Exception as exc:
        if database_unavailable(exc):
            raise
        return _failed(inbound, exc)


def _invalid(inbound: Inbound, problems: list[dict]) -> IntakeResult:
    _audit(inbound, Outcome.INVALID, intake_status(Outcome.INVALID), authenticated_body=True, errors_=problems)
    return IntakeResult(outcome=Outcome.INVALID, problems=problems)


def _accept(inbound: Inbound, route: Route, event: ProviderEvent, *, again: bool = False) -> IntakeResult:
    order: Order | None
    try:
        if event.kind == "order_created":
            audit, order = _accept_new_order(inbound, route, event)
        elif event.kind == "fetch":
            audit, order = _accept_fetch(inbound, route, event), None
        elif event.kind == "menu_result":
            audit, order = _accept_menu_result(inbound, route, event), None
        else:
            audit, order = _accept_status(inbound, route, event)
    except UnknownOrder:
        return _invalid(inbound, [{"field": "order", "message": "no such order; send the order before its status"}])
    except ForeignOrder:
        _reject(inbound, Outcome.UNAUTHORIZED, errors.Unauthorized(), authenticated_body=True,
                errors_=[{"field": "order", "message": "belongs to another branch than the one authenticated"}])
    except IntegrityError as exc:
        if violates(exc, InboundWebhook, "inbound_dedupe"):
            return _duplicate(inbound, route, event)
        if violates(exc, Order, "order_per_provider"):
            if event.kind == "status_update" and not again:  # created meanwhile from another event: apply to it
                return _accept(inbound, route, event, again=True)
            return _same_order_again(inbound, route, event)
        raise
    return IntakeResult(outcome=Outcome.ACCEPTED, plugin_dispatch=route.plugin_dispatch, empty_answer=route.empty_answer,
                        webhook_id=audit.id, order_id=order.id if order else None)


def _accepted_row(inbound: Inbound, route: Route, event: ProviderEvent) -> InboundWebhook:
    return _audit_row(inbound, Outcome.ACCEPTED, intake_status(Outcome.ACCEPTED, route.plugin_dispatch),
                      authenticated_body=True, dedupe_key=event.dedupe_key[:300])


def _accept_new_order(inbound: Inbound, route: Route, event: ProviderEvent) -> tuple[InboundWebhook, Order]:
    """The audit row, the order, its first event and the backend's message in one statement; with the
    branch's auto-accept, the decision in the same transaction. Inside a caller's transaction (a
    reprocessing) a duplicate must not break it: a savepoint."""
    audit = _accepted_row(inbound, route, event)
    with transaction.atomic() if inbound.context.auto_accept else statement_guard():
        order = order_create(provider=inbound.provider, event=event, audit=audit)
        if inbound.context.auto_accept:
            order_decide(order_id=order.id, action=OrderDecision.Action.ACCEPT, decided_by="auto", notify_backend=True)
    _audited(inbound, audit)
    return audit, order


@transaction.atomic
def _accept_status(inbound: Inbound, route: Route, event: ProviderEvent) -> tuple[InboundWebhook, Order | None]:
    """A status update (or an event the hub records and ignores) with its audit row, in one transaction.
    An update carrying the provider's full order creates an order the hub has not seen (its order.new
    is late or lost: Deliveroo's status log, Uber Eats' fetched order are the truth), then applies."""
    audit = _accepted_row(inbound, route, event)
    if event.kind == "status_update" and event.order is not None and not _order_exists(inbound.provider, event):
        order_create(provider=inbound.provider, event=replace(event, kind="order_created"), audit=audit)
    else:
        statements.audit(audit)
    _audited(inbound, audit)
    order = None
    if event.kind == "status_update":
        order, _ = order_apply_status(provider=inbound.provider, event=event, webhook_id=audit.id,
                                      acting_branch=inbound.context.acting_branch)
    return audit, order


def _order_exists(provider: str, event: ProviderEvent) -> bool:
    return Order.objects.filter(provider=provider, external_order_id=event.external_order_id).exists()


@transaction.atomic
def _accept_menu_result(inbound: Inbound, route: Route, event: ProviderEvent) -> InboundWebhook:
    """A provider's word on a menu upload (Talabat's import callback, Careem's catalog status, Deliveroo's
    `menu.upload_result`) finishes the upload it answers (`menu_sync_result`). Its key is the provider's
    delivery (Deliveroo: the sequence GUID its retries keep; the others: the upload's job id and the state
    it reached), so a retried result is a duplicate that changes nothing, while a later upload's result with
    the same body is a new one."""
    from providers.menus import menu_sync_result

    audit = _accepted_row(inbound, route, event)
    statements.audit(audit)
    _audited(inbound, audit)
    refs = event.provider_refs
    menu_sync_result(provider=inbound.provider, job_id=refs["jobId"],
                     answer=MenuAnswer(refs["state"], job_id=refs["jobId"], errors=refs["errors"]))
    return audit


@transaction.atomic
def _accept_fetch(inbound: Inbound, route: Route, event: ProviderEvent) -> InboundWebhook:
    """A thin event: its audit row and the fetch of its order (`providers.fetches`), in one transaction."""
    from providers.fetches import enqueue_fetch

    audit = _accepted_row(inbound, route, event)
    statements.audit(audit)
    _audited(inbound, audit)
    enqueue_fetch(adapter=ADAPTERS[inbound.provider], event=event, webhook_id=audit.id, route=inbound.route,
                  context=inbound.context)
    return audit


def _duplicate_answer(inbound: Inbound, route: Route, event: ProviderEvent, first_id, note: str = "") -> IntakeResult:
    _audit(inbound, Outcome.DUPLICATE, intake_status(Outcome.DUPLICATE, route.plugin_dispatch), authenticated_body=True,
           dedupe_key=event.dedupe_key[:300], duplicate_of=first_id,
           errors_=[{"field": "order", "message": note}] if note else None)
    order_id = None
    if route.plugin_dispatch:
        order_id = (Order.objects.filter(provider=inbound.provider, external_order_id=event.external_order_id)
                    .values_list("id", flat=True).first())
    return IntakeResult(outcome=Outcome.DUPLICATE, plugin_dispatch=route.plugin_dispatch,
                        empty_answer=route.empty_answer, webhook_id=first_id, order_id=order_id)


def _duplicate(inbound: Inbound, route: Route, event: ProviderEvent) -> IntakeResult:
    """The same provider event again (a retry): the first accepted request's id."""
    first = InboundWebhook.objects.filter(
        provider=inbound.provider, dedupe_key=event.dedupe_key[:300], outcome=Outcome.ACCEPTED
    ).values_list("id", flat=True).first()
    return _duplicate_answer(inbound, route, event, first)


def _same_order_again(inbound: Inbound, route: Route, event: ProviderEvent) -> IntakeResult:
    """A new event creating an order the hub already has (Talabat: the same `code` dispatched under
    another `token`): the order exists and is not created twice; the answer names the request that
    created it, and the audit row says why."""
    first = (OrderEvent.objects.filter(order__provider=inbound.provider, order__external_order_id=event.external_order_id)
             .order_by("id").values_list("webhook_id", flat=True).first())
    return _duplicate_answer(inbound, route, event, first,
                             note=f"order {event.external_order_id!r} already exists; created by webhook {first}")


def _failed(inbound: Inbound, exc: Exception) -> IntakeResult:
    description = describe_error(exc)
    logger.error("webhook_processing_failed", provider=inbound.provider, error=description,
                 exc_info=not isinstance(exc, DatabaseError))  # whose text may quote row values
    audit = _audit(inbound, Outcome.FAILED, intake_status(Outcome.FAILED), authenticated_body=True,
                   errors_=[{"field": "processing", "message": description}],
                   route=inbound.route, context=asdict(inbound.context))
    return IntakeResult(outcome=Outcome.FAILED, webhook_id=audit.id)
