"""One HTTP delivery of an outbox message: envelope, signing, POST, outcome. No database here."""

import json
import time
from dataclasses import dataclass

import requests
from django.utils import timezone

from hub import http
from hub.http import parse_retry_after
from hub.signing import standard_webhook_headers
from webhooks.models import OutboxMessage
from webhooks.senders import Sender, sender_for

EXCERPT_BYTES = 2048
# How the error of an attempt that could not be sent at all begins (an unencodable body, a refused URL):
# the message's own fault, which the circuit breaker never counts against its destination.
UNSENDABLE = "cannot be sent: "
RETRY_AFTER_STATUSES = {429, 503}


@dataclass(frozen=True)
class DeliveryResult:
    succeeded: bool
    duration_ms: int
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""
    retry_after: float | None = None
    permanent: bool = False  # the message itself cannot be sent: no retry, and no fault of the destination
    # The receiver's own schedule for this one message (Delivery Hero's 409 rule): retry after exactly
    # this many seconds, not counted against max_attempts nor the circuit.
    retry_in: float | None = None


def envelope_body(message: OutboxMessage) -> str:
    """The same bytes on every attempt: only the timestamp header and signature change."""
    envelope = {
        "id": message.event_id,
        "type": message.event_type,
        "occurredAt": message.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": message.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


def delivery_headers(message: OutboxMessage, body: str) -> dict[str, str]:
    destination = message.destination
    headers = {
        "Content-Type": "application/json",
        **standard_webhook_headers(
            webhook_id=message.event_id, timestamp=timezone.now(), body=body, secrets=destination.secrets
        ),
    }
    if message.correlation_id:
        headers["X-Correlation-ID"] = message.correlation_id
    if destination.auth_header_name:
        headers[destination.auth_header_name] = destination.auth_header_value
    return headers


def _read_excerpt(response: requests.Response) -> str:
    chunk = next(response.iter_content(EXCERPT_BYTES), b"")
    return chunk[:EXCERPT_BYTES].decode("utf-8", errors="replace")


def _request(message: OutboxMessage) -> requests.PreparedRequest:
    body = envelope_body(message)
    url = message.destination.url.rstrip("/") + message.path if message.path else message.destination.url
    return http.prepare("POST", url, body=body.encode(), headers=delivery_headers(message, body))


def send(message: OutboxMessage) -> DeliveryResult:
    if custom := sender_for(message.destination.name):
        return _send_with(custom, message)
    started = time.perf_counter()
    elapsed = lambda: int((time.perf_counter() - started) * 1000)  # noqa: E731
    try:
        prepared = _request(message)
    except Exception as exc:  # noqa: BLE001 - unencodable body, invalid URL: retrying cannot help
        return DeliveryResult(succeeded=False, duration_ms=elapsed(), permanent=True,
                              error=f"{UNSENDABLE}{type(exc).__name__}: {exc}"[:1000])
    try:
        with http.send(prepared, timeout=message.destination.timeout_seconds, stream=True) as response:
            excerpt = _read_excerpt(response)
    except requests.RequestException as exc:
        return DeliveryResult(succeeded=False, duration_ms=elapsed(), error=f"{type(exc).__name__}: {exc}"[:1000])
    succeeded = 200 <= response.status_code < 300
    retry_after = (
        parse_retry_after(response.headers.get("Retry-After")) if response.status_code in RETRY_AFTER_STATUSES else None
    )
    return DeliveryResult(
        succeeded=succeeded,
        duration_ms=elapsed(),
        status_code=response.status_code,
        excerpt=excerpt,
        error="" if succeeded else f"HTTP {response.status_code}",
        retry_after=retry_after,
    )


def _send_with(sender: Sender, message: OutboxMessage) -> DeliveryResult:
    started = time.perf_counter()
    try:
        return sender(message)
    except Exception as exc:  # noqa: BLE001 - a sender's bug must not take the batch down; the message retries
        return DeliveryResult(succeeded=False, duration_ms=int((time.perf_counter() - started) * 1000),
                              error=f"sender failed: {type(exc).__name__}: {exc}"[:1000])
