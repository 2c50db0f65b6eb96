"""Correlation id on every request: taken from `X-Correlation-ID` when sane, else generated;
bound to the log context for the request's lifetime and echoed on the response."""

import re
import time
import uuid
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse

from hub import metrics

HEADER = "X-Correlation-ID"
# Anything else (control characters, huge values) is replaced rather than echoed back.
ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

access_logger = structlog.get_logger("hub.access")


def correlation_id_from(request: HttpRequest) -> str:
    candidate = request.headers.get(HEADER, "")
    return candidate if ACCEPTABLE_ID.match(candidate) else str(uuid.uuid4())


class CorrelationIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        correlation_id = correlation_id_from(request)
        request.correlation_id = correlation_id  # type: ignore[attr-defined]  # read by views and logs
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = correlation_id
            elapsed = time.perf_counter() - started
            match = getattr(request, "resolver_match", None)
            route = (match.url_name or match.route) if match else "unmatched"
            metrics.HTTP_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
            metrics.HTTP_LATENCY.labels(route).observe(elapsed)
            access_logger.info(
                "request",
                method=request.method,
                path=request.path,
                status=response.status_code,
                duration_ms=round(elapsed * 1000, 2),
            )
            return response
        finally:
            structlog.contextvars.clear_contextvars()
