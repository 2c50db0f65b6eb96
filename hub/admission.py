"""Admission control: shed, don't queue (SPEC §1).

A request that waited longer than HUB_QUEUE_TIMEOUT_MS for a thread (the server measures it:
`hub.server.Worker`) is answered at once with 503 OVERLOADED and Retry-After: 1, by `ShedWhenQueued` in
front of Django when a thread takes it, or by the server's watchdog from the queue while every thread is
busy: no view runs, nothing is written, and a shed answer costs a few tens of microseconds, so
that under overload the threads serve the requests that can still be answered in time and the hub's
goodput stays near its saturation throughput. Its caller (an RGS gives a bet about a second) would have
given up on it anyway. Health checks and metrics are never shed.

The admin gets HUB_ADMIN_CONCURRENCY threads per process at most (`AdminShare`): one more admin request
meanwhile is answered 503 OVERLOADED at once, so slow admin pages never hold the threads the machine
endpoints need.
"""

import threading
from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from hub import errors, metrics
from hub.machine_api import error_response

NEVER_SHED = ("/health", "/metrics")
ADMIN = "/admin/"

_request = threading.local()


def waited(seconds: float) -> None:
    """How long the request this thread is about to serve waited for it (the server calls this)."""
    _request.waited = seconds


def _take_waited() -> float:
    seconds = getattr(_request, "waited", 0.0)
    _request.waited = 0.0  # the next request on the connection, served by the same thread, reports anew
    return seconds


def overloaded() -> errors.ServiceUnavailable:
    return errors.ServiceUnavailable("The hub is overloaded; retry shortly.", code="OVERLOADED",
                                     headers={"Retry-After": "1"})


@lru_cache(maxsize=1024)  # a shed answer must stay cheap; the paths a busy hub sees are few
def _route(path: str) -> str:
    """The route's name, as the hub's other request metrics label it."""
    try:
        match = resolve(path)
    except Resolver404:
        return "unmatched"
    return match.url_name or match.route


@cache
def _shed_answer() -> tuple[str, list[tuple[str, str]], bytes]:
    """The 503 as Django would answer it (`hub.machine_api.error_response`), built once."""
    response = error_response(overloaded())
    response["Content-Length"] = str(len(response.content))  # the connection stays usable (keep-alive)
    return (f"{response.status_code} {response.reason_phrase}", [(name, value) for name, value in response.items()],
            response.content)


@cache
def shed_answer_bytes() -> bytes:
    """The same answer as raw HTTP/1.1 that closes the connection: for the server's watchdog, which answers
    a request from the queue without reading it (hub.server)."""
    status, headers, body = _shed_answer()
    head = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers), "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def count_shed(path: str) -> None:
    metrics.REQUESTS_SHED.labels(_route(path)).inc()


class ShedWhenQueued:
    """The WSGI application the server runs: Django's, behind the queue check."""

    def __init__(self, application: Callable) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        waited_seconds = _take_waited()
        if waited_seconds * 1000 <= settings.HUB_QUEUE_TIMEOUT_MS:
            return self.application(environ, start_response)
        path = environ.get("PATH_INFO", "")
        if path.startswith(NEVER_SHED):
            return self.application(environ, start_response)
        count_shed(path)
        status, headers, body = _shed_answer()
        start_response(status, headers)
        return [body]


class AdminShare:
    """Django middleware: the admin's requests take one of HUB_ADMIN_CONCURRENCY slots of the process."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.admin_slots = threading.BoundedSemaphore(settings.HUB_ADMIN_CONCURRENCY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(ADMIN):
            return self.get_response(request)
        if not self.admin_slots.acquire(blocking=False):
            metrics.REQUESTS_SHED.labels(_route(request.path_info)).inc()
            return error_response(overloaded())
        try:
            return self.get_response(request)
        finally:
            self.admin_slots.release()
