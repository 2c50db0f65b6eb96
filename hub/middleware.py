"""Correlation id on every request: taken from `X-Correlation-ID` when sane, else generated;
bound to the log context for the request's lifetime and echoed on the response. And the browser's
middleware (sessions, the user, messages), skipped on the machine endpoints."""

import re
import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.deprecation import MiddlewareMixin

from hub import errors, metrics

HEADER = "X-Correlation-ID"
# Anything else (control characters, huge values) is replaced rather than echoed back.
ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")

access_logger = structlog.get_logger("hub.access")


def correlation_id_from(request: HttpRequest) -> str:
    candidate = request.headers.get(HEADER, "")
    return candidate if ACCEPTABLE_ID.fullmatch(candidate) else str(uuid.uuid4())


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


# The wallet API, provider intake and order decisions: callers that send no cookies and prove who
# they are by a signature or a token. The webhook statistics are not among them (staff read them
# with the admin's session).
MACHINE_PATH = re.compile(r"/(?:wallet/|api/orders/|api/webhooks/(?!stats/))")


class BrowsersOnly(MiddlewareMixin):
    """Skips the middleware it is mixed into on the machine endpoints. Sessions, the user and
    messages had nothing to do there, yet cost about 3 % of a debit's instructions: a session store,
    a lazy user and two message stores built and checked per request (docs/PERFORMANCE.md, ninth
    step). The classes keep Django's as bases, so the admin's checks for them still hold."""

    async_capable = False  # the hub is served over WSGI

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if MACHINE_PATH.match(request.path_info):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(BrowsersOnly, sessions.SessionMiddleware):
    pass


class AuthenticationMiddleware(BrowsersOnly, auth.AuthenticationMiddleware):
    pass


class MessageMiddleware(BrowsersOnly, messages.MessageMiddleware):
    pass


class RefuseNulCharacters:
    """PostgreSQL cannot store or compare text holding a NUL: a path parameter, query value, admin filter
    or search with one would fail inside the database (a 500). Such a URL is refused up front, on every
    route (the machine endpoints' path parameters and queries reach the database too), before any other
    check: 400 VALIDATION_ERROR with the usual body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            error = errors.ValidationFailed("The URL holds a NUL character.", details={"url": ["NUL is not allowed."]})
            return JsonResponse(error.as_body(), status=error.status_code)
        return self.get_response(request)
