"""The Operator's wallet API (SPEC §4) behind retries.

5xx, timeouts and connection errors are retried with exponential backoff and jitter; a 429 waits
its Retry-After when that still fits in the deadline; other 4xx are answers, never retried. Every
retry carries the same `transaction_id`, so the Operator applies the operation at most once.
When the budget is spent the outcome is unknown: `OperatorUnavailable`.
"""

import json
import math
import time
from dataclasses import dataclass
from typing import Any

import requests
import structlog
from django.conf import settings
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from hub import http, metrics
from hub.http import parse_retry_after
from hub.json_input import NotJson, TooDeep, load_json
from hub.signing import secret_list

logger = structlog.get_logger(__name__)
_backoff = wait_random_exponential(multiplier=0.2, max=3)
# The listing's page of up to 1,000 transactions is the one Operator answer longer than http's default.
LISTING_MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class OperatorAnswer:
    status_code: int
    body: dict[str, Any]


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class OperatorUnavailable(Exception):
    """The Operator did not give a definite answer within the retry budget."""

    def __init__(self, reason: str, retry_after_seconds: int) -> None:
        super().__init__(reason)
        self.retry_after_seconds = retry_after_seconds


def _wait(retry_state: RetryCallState) -> float:
    error = retry_state.outcome.exception() if retry_state.outcome else None
    if isinstance(error, _Transient) and error.retry_after is not None:
        return error.retry_after
    return _backoff(retry_state)


def _operation(path: str) -> str:
    """A low-cardinality label: withdraw, deposit, rollback, status or transactions."""
    if path.startswith("/api/v1/wallet/transactions/"):
        return "status"
    return path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]


def _once(method: str, path: str, payload: dict | None) -> OperatorAnswer:
    started = time.perf_counter()
    try:
        answer = _send(method, path, payload)
    except _Transient as exc:
        metrics.OPERATOR_LATENCY.labels(_operation(path), str(exc)).observe(time.perf_counter() - started)
        raise
    metrics.OPERATOR_LATENCY.labels(_operation(path), f"HTTP {answer.status_code}").observe(time.perf_counter() - started)
    return answer


def _send(method: str, path: str, payload: dict | None) -> OperatorAnswer:
    headers = {"Authorization": f"Bearer {secret_list(settings.OPERATOR_API_KEY)[0]}"}  # "new,old": the new
    if correlation_id := structlog.contextvars.get_contextvars().get("correlation_id"):
        headers["X-Correlation-ID"] = correlation_id
    try:
        if payload is not None:
            headers["Content-Type"] = "application/json"
        request = http.prepare(method, f"{settings.OPERATOR_BASE_URL.rstrip('/')}{path}", headers=headers,
                               body=b"" if payload is None else json.dumps(payload).encode())
        response = http.send(request, timeout=settings.OPERATOR_TIMEOUT_SECONDS,
                             max_bytes=LISTING_MAX_BYTES if path.startswith("/api/v1/transactions") else http.STREAMED_BYTES)
    except requests.RequestException as exc:
        raise _Transient(f"{type(exc).__name__}") from exc
    if http.truncated(response):  # unreadable: the same transaction id is asked again
        raise _Transient("answer too large")
    if response.status_code == 429:
        raise _Transient("HTTP 429", retry_after=parse_retry_after(response.headers.get("Retry-After")) or 1.0)
    if response.status_code >= 500:
        raise _Transient(f"HTTP {response.status_code}")
    try:
        body = load_json(response.content)
    except (NotJson, TooDeep):
        body = {}
    return OperatorAnswer(status_code=response.status_code, body=body if isinstance(body, dict) else {})


def _before_retry(path: str, state: RetryCallState) -> None:
    reason = str(state.outcome.exception()) if state.outcome else ""
    metrics.OPERATOR_RETRIES.labels(_operation(path), reason).inc()
    logger.info("operator_retry", path=path, attempt=state.attempt_number, reason=reason, sleep=round(state.upcoming_sleep, 3))


def _retried(first_failure: _Transient, started: float, method: str, path: str, payload: dict | None) -> OperatorAnswer:
    """The attempts after a first one that failed, under the retry policy: tenacity is shown the first
    failure as its own first attempt, so that it counts it, waits its Retry-After or backoff, and stops
    at the same attempt and deadline as if it had made it."""
    failures = [first_failure]

    def attempt() -> OperatorAnswer:
        if failures:
            raise failures.pop()
        return _once(method, path, payload)

    retrying = Retrying(
        retry=retry_if_exception_type(_Transient),
        wait=_wait,
        stop=stop_after_attempt(settings.OPERATOR_MAX_ATTEMPTS)
        | stop_before_delay(settings.OPERATOR_RETRY_DEADLINE_SECONDS - (time.monotonic() - started)),
        before_sleep=lambda state: _before_retry(path, state),
        reraise=True,
    )
    return retrying(attempt)


def operator_request(method: str, path: str, payload: dict | None = None) -> OperatorAnswer:
    started = time.monotonic()
    try:
        try:
            # The first attempt outside tenacity's loop: almost every call ends there, and the loop
            # cost about 3 % of a debit's instructions (docs/PERFORMANCE.md, tenth step).
            return _once(method, path, payload)
        except _Transient as first_failure:
            return _retried(first_failure, started, method, path, payload)
    except _Transient as exc:
        logger.warning("operator_unavailable", path=path, reason=str(exc))
        raise OperatorUnavailable(str(exc), retry_after_seconds=max(1, math.ceil(exc.retry_after or 5))) from exc


def operator_wallet_call(operation: str, payload: dict) -> OperatorAnswer:
    """`operation`: withdraw, deposit or rollback."""
    return operator_request("POST", f"/api/v1/wallet/{operation}", payload)
