"""Send one call to a provider: the outbox's sender for each provider's destination (its name).

A message is a decision's call, the fetch of a thin event's order (`providers.fetches`), or a menu sync
(`providers.menus`: rendered at send time, held back by the provider's rate limit, skipped when the provider
already has it).

The message keeps the decision; the adapter renders its call here, at each send, so whatever the call
says relative to now (Talabat's acceptanceTime) is true when it is sent. Its URL passes `hub.http`'s
one check against the provider's configured API URL (a refused URL fails that message permanently,
never the circuit); it gets its bearer token (`providers.tokens`), is sent, its answer is read up to
64 KiB, and the answer becomes a `DeliveryResult`:
2xx delivered; 401 → the token is dropped and the call sent once more with a new one (a second 401
is retried later); 408, 425, 429 and 5xx retried on the destination's schedule; Delivery Hero's 409 with `currentState`
ASSIGNED_TO_TRANSPORT or WAITING_FOR_ACKNOWLEDGEMENT retried every 10 s for 5 minutes from the
first 409; any other 4xx is permanent (a dead letter, replayable in the admin).
"""

import json
import time
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.utils import timezone

from hub import http, metrics
from hub.http import parse_retry_after
from providers.adapters import ADAPTERS
from hub.json_input import NotJson, TooDeep, load_json
from providers.adapters.base import Decision, ItemChange, LoginFailed, NoCall, ProviderAdapter, ProviderCall
from providers.tokens import bearer_token, drop_token
from webhooks.delivery import EXCERPT_BYTES, UNSENDABLE, DeliveryResult
from webhooks.models import DeliveryAttempt, OutboxMessage
from webhooks.senders import Sender, register_sender

RETRYABLE_CONFLICT_STATES = {"ASSIGNED_TO_TRANSPORT", "WAITING_FOR_ACKNOWLEDGEMENT"}
CONFLICT_RETRY_SECONDS = 10.0
CONFLICT_RETRY_WINDOW = timedelta(minutes=5)
TRANSIENT_STATUSES = {401, 408, 425, 429}  # 401: even a fresh token was refused (revoked, rotated): retry later


def register_provider_senders() -> None:
    """Every adapter's destination (its name) gets its calls sent by this module."""
    for adapter in ADAPTERS.values():
        register_sender(adapter.name, _sender(adapter), on_dead_letter=_dead_lettered)


def _dead_lettered(message: OutboxMessage, error: str) -> None:
    """A fetch that ends as a dead letter leaves its event a failed inbound webhook; a menu sync fails."""
    from providers.fetches import fetch_dead_lettered
    from providers.menus import menu_sync_failed

    if "menuSync" in message.payload:
        menu_sync_failed(message.payload["menuSync"], error)
    else:
        fetch_dead_lettered(message, error)


def _sender(adapter: ProviderAdapter) -> Sender:
    return lambda message: send_call(adapter, message)


class Unsendable(Exception):
    """The call cannot be sent at all (its URL is refused, a header is invalid): no retry can help."""


def call_now(adapter: ProviderAdapter, message: OutboxMessage) -> ProviderCall:
    """The message's call as it is sent now. Messages queued before decisions were kept carry the call."""
    data = message.payload
    if "fetch" in data:
        return adapter.fetch_call(data["fetch"]["externalOrderId"])
    if "decision" not in data:
        return ProviderCall(method=data["method"], url=data["url"], body=data.get("body"), headers=data.get("headers", {}))
    call = adapter.decision_call(Decision.from_data(data["decision"], sent_at=timezone.now()))
    if isinstance(call, NoCall):  # e.g. the middleware's URL changed since: this order's callback is off it now
        raise Unsendable(call.explanation)
    if isinstance(call, tuple):
        step = data.get("step", 0)
        if step >= len(call):
            raise Unsendable(f"the decision has no call {step} any more")
        return call[step]
    return call


def send_call(adapter: ProviderAdapter, message: OutboxMessage) -> DeliveryResult:
    started = time.perf_counter()
    if "menuSync" in message.payload:
        return _send_menu(adapter, message, started)
    if "availability" in message.payload or "storeStatus" in message.payload:
        return _send_store_calls(adapter, message, started)
    try:
        call = call_now(adapter, message)
        response = _authorized(adapter, call)
    except SEND_FAILURES as exc:
        return _not_sent(adapter, started, exc)
    if "fetch" in message.payload and 200 <= response.status_code < 300:
        from providers.fetches import fetched

        return _done(adapter, started, **fetched(adapter, message, call, response))
    return _outcome(adapter, message, response, started)


def _send_menu(adapter: ProviderAdapter, message: OutboxMessage, started: float) -> DeliveryResult:
    from providers.menus import menu_sync_answered, menu_sync_call

    sync_id = message.payload["menuSync"]
    plan = menu_sync_call(sync_id)
    if plan.skip:
        return _done(adapter, started, succeeded=True, excerpt=plan.skip)
    if plan.call is None:
        return _done(adapter, started, error=f"waiting for {plan.waiting_for}: sent in {plan.wait_seconds:.0f} s",
                     retry_in=max(plan.wait_seconds, 1.0))
    try:
        response = _authorized(adapter, plan.call)
    except SEND_FAILURES as exc:
        return _not_sent(adapter, started, exc)
    result = _outcome(adapter, message, response, started)
    if result.succeeded or result.permanent:
        menu_sync_answered(sync_id, adapter.menu_answer(plan.call, response.status_code, response.content))
    return result


PENDING_MENU_RETRY_SECONDS = 30.0
PARTIAL_RETRY_SECONDS = 30.0


def _store_calls(adapter: ProviderAdapter, message: OutboxMessage) -> tuple[tuple[ProviderCall, ...], str]:
    """The calls an availability change or a store status renders to now (and why not yet)."""
    from providers.availability import branch_menu_pending, branch_of, provider_item_ids

    data = message.payload.get("availability") or message.payload["storeStatus"]
    branch = branch_of(data["branchId"])
    if branch is None:
        raise Unsendable("the branch is gone")
    ids = branch.provider_ids or {}
    if "storeStatus" in message.payload:
        until = datetime.fromisoformat(data["until"]) if data["until"] else None
        return (adapter.status_call(data["status"], until, branch.external_id, ids),), ""
    if adapter.availability_needs_live_menu and branch_menu_pending(branch.id):
        return (), f"{adapter.name} has not confirmed the menu yet: changes sent now could be lost"
    offered = provider_item_ids(branch, adapter.name)  # an item hidden from this provider is not on its menu
    changes = [ItemChange(item["id"], item["available"], datetime.fromisoformat(item["until"]) if item["until"] else None,
                          option=item["option"]) for item in data["items"] if item["id"] in offered]
    return (adapter.availability_calls(changes, branch.external_id, ids) if changes else ()), ""


def _send_store_calls(adapter: ProviderAdapter, message: OutboxMessage, started: float) -> DeliveryResult:
    """Every call of the change in order (each is idempotent: a retry sends them all again); the first
    that is not a plain success decides the outcome."""
    try:
        calls, wait = _store_calls(adapter, message)
        if wait:
            return _done(adapter, started, error=wait, retry_in=PENDING_MENU_RETRY_SECONDS)
        for call in calls:
            response = _authorized(adapter, call)
            if not 200 <= response.status_code < 300:
                return _outcome(adapter, message, response, started)
            if "availability" in message.payload and (
                    partial := adapter.availability_partial(response.status_code, response.content)):
                return _done(adapter, started, status_code=response.status_code, error=f"partial: {partial}"[:1000],
                             retry_in=PARTIAL_RETRY_SECONDS)
    except SEND_FAILURES as exc:
        return _not_sent(adapter, started, exc)
    return _done(adapter, started, succeeded=True, excerpt=f"{len(calls)} calls")


SEND_FAILURES = (Unsendable, LoginFailed, requests.RequestException)


def _authorized(adapter: ProviderAdapter, call: ProviderCall) -> requests.Response:
    """The call with the cached bearer token; on a 401 that token is dropped and the call sent once more
    with a new one."""
    token = bearer_token(adapter)
    response = _send(adapter, call, token)
    if response.status_code == 401:
        drop_token(adapter, token)
        response = _send(adapter, call, bearer_token(adapter))
    return response


def _not_sent(adapter: ProviderAdapter, started: float, exc: Exception) -> DeliveryResult:
    """A call that got no answer: a refused URL or header is permanent; a failed login or the network, retried."""
    if isinstance(exc, Unsendable):
        return _done(adapter, started, permanent=True, error=f"{UNSENDABLE}{exc}"[:1000])
    if isinstance(exc, LoginFailed):
        return _done(adapter, started, error=f"login failed: {exc}")
    return _done(adapter, started, error=f"{type(exc).__name__}: {exc}")


def _send(adapter: ProviderAdapter, call: ProviderCall, token: str) -> requests.Response:
    headers = {**call.headers, "Authorization": f"Bearer {token}"}
    if call.body is not None:
        headers["Content-Type"] = "application/json"
    try:
        body = b"" if call.body is None else json.dumps(call.body, separators=(",", ":")).encode()
        prepared = http.prepare(call.method, call.url, body=body, headers=headers, origin=adapter.api_origin())
    except (ValueError, TypeError) as exc:  # RefusedURL, InvalidHeader, an unencodable body
        raise Unsendable(f"{type(exc).__name__}: {exc}") from exc
    # a fetched order is read whole, up to the size of a webhook body; other answers only in part
    return http.send(prepared, timeout=settings.PROVIDER_CALL_TIMEOUT_SECONDS,
                     max_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE if call.method == "GET" else http.STREAMED_BYTES)


def _outcome(adapter: ProviderAdapter, message: OutboxMessage, response: requests.Response,
             started: float) -> DeliveryResult:
    status, excerpt = response.status_code, response.content[:EXCERPT_BYTES].decode("utf-8", errors="replace")
    answer = {"status_code": status, "excerpt": excerpt}
    if 200 <= status < 300:
        return _done(adapter, started, succeeded=True, **answer)
    state = _conflict_state(response) if status == 409 else ""
    if state in RETRYABLE_CONFLICT_STATES and _within_conflict_window(message):
        return _done(adapter, started, error=f"HTTP 409 {state}: retried in 10 s",
                     retry_in=CONFLICT_RETRY_SECONDS, **answer)
    if status >= 500 or status in TRANSIENT_STATUSES:
        return _done(adapter, started, error=f"HTTP {status}", retry_after=parse_retry_after(
            response.headers.get("Retry-After")), **answer)
    return _done(adapter, started, permanent=True, error=f"HTTP {status}: refused by {adapter.name}", **answer)


def _conflict_state(response: requests.Response) -> str:
    try:
        body = load_json(response.content)
    except (NotJson, TooDeep):
        return ""
    return str(body.get("currentState", "")) if isinstance(body, dict) else ""


def _within_conflict_window(message: OutboxMessage) -> bool:
    first = (DeliveryAttempt.objects.filter(message_id=message.id, status_code=409)
             .order_by("attempted_at").values_list("attempted_at", flat=True).first())
    return first is None or timezone.now() - first < CONFLICT_RETRY_WINDOW


def _done(adapter: ProviderAdapter, started: float, **result) -> DeliveryResult:
    outcome = DeliveryResult(duration_ms=int((time.perf_counter() - started) * 1000),
                             **{"succeeded": False, **result})
    label = "delivered" if outcome.succeeded else "permanent" if outcome.permanent else "retry"
    metrics.PROVIDER_CALLS.labels(adapter.name, label).inc()
    return outcome
