"""Admission control: shed, don't queue (SPEC §1).

A request that waited longer than HUB_QUEUE_TIMEOUT_MS for a thread (the server measures it:
`hub.server.Worker`) is answered at once with 503 OVERLOADED and Retry-After: 1, before any view runs, so
nothing is written. Its caller (an RGS gives a bet about a second) would have given up on it anyway; the
threads go to requests that can still be answered in time, and the hub's goodput stays at its saturation
throughput. Health checks and metrics are never shed.

The admin has HUB_ADMIN_CONCURRENCY threads per process at most: one more admin request meanwhile is
answered 503 OVERLOADED at once, so slow admin pages never hold the threads the machine endpoints need.
"""

import threading
from collections.abc import Callable

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
    _request.waited = 0.0  # a second request on the connection, served by the same thread, reports anew
    return seconds


def overloaded() -> errors.ServiceUnavailable:
    return errors.ServiceUnavailable("The hub is overloaded; retry shortly.", code="OVERLOADED",
                                     headers={"Retry-After": "1"})


def _route(request: HttpRequest) -> str:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return "unmatched"
    return match.url_name or match.route


class AdmissionMiddleware:
    """First among the middleware that do work: a shed request costs a path check and a response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.admin_slots = threading.BoundedSemaphore(settings.HUB_ADMIN_CONCURRENCY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        waited = _take_waited()
        path = request.path_info
        if path.startswith(NEVER_SHED):
            return self.get_response(request)
        if waited * 1000 > settings.HUB_QUEUE_TIMEOUT_MS:
            return self._shed(request)
        if not path.startswith(ADMIN):
            return self.get_response(request)
        if not self.admin_slots.acquire(blocking=False):
            return self._shed(request)
        try:
            return self.get_response(request)
        finally:
            self.admin_slots.release()

    def _shed(self, request: HttpRequest) -> HttpResponse:
        metrics.REQUESTS_SHED.labels(_route(request)).inc()
        return error_response(overloaded())
