"""Admission control: shed, don't queue (SPEC §1).

A request that waited longer than HUB_QUEUE_TIMEOUT_MS for a thread is answered at once with 503
OVERLOADED and Retry-After: 1 by the server (`hub.server.Worker`, which keeps the queue and measures the
wait): by its main thread, or by a thread for a request the main thread cannot read whole. The answer is
written as it was built once, with no WSGI request and no Django: no view runs, nothing is written, and a
shed answer costs little, so that under overload the threads serve the requests that can still be
answered in time and the hub's goodput stays near its saturation throughput. Its caller (an RGS gives a
bet about a second) would have given up on it anyway. Health checks and metrics are never shed.

The admin gets HUB_ADMIN_CONCURRENCY threads per process at most (`AdminShare`): one more admin request
meanwhile is answered 503 OVERLOADED at once, so slow admin pages never hold the threads the machine
endpoints need.
"""

import threading
from collections.abc import Callable
from functools import cache, lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from hub import errors, metrics
from hub.machine_api import error_response

NEVER_SHED = ("/health", "/metrics")
ADMIN = "/admin/"

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
def _shed_answer() -> tuple[int, str, list[tuple[str, str]], bytes]:
    """The 503 as Django would answer it (`hub.machine_api.error_response`), built once."""
    response = error_response(overloaded())
    response["Content-Length"] = str(len(response.content))  # the connection stays usable (keep-alive)
    return response.status_code, response.reason_phrase, list(response.items()), response.content


@cache
def shed_answer_bytes(*, keep_alive: bool) -> bytes:
    """That answer as raw HTTP/1.1, for the server to write without building a WSGI request (hub.server)."""
    status, reason, headers, body = _shed_answer()
    head = [f"HTTP/1.1 {status} {reason}", *(f"{name}: {value}" for name, value in headers),
            f"Connection: {'keep-alive' if keep_alive else 'close'}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def exempt(path: str) -> bool:
    return path.startswith(NEVER_SHED)


def waited_too_long(path: str, seconds: float) -> bool:
    """Whether a request that waited `seconds` for a thread is to be shed."""
    return seconds * 1000 > settings.HUB_QUEUE_TIMEOUT_MS and not exempt(path)


def count_shed(path: str) -> None:
    metrics.REQUESTS_SHED.labels(_route(path)).inc()


class AdminShare:
    """Django middleware: the admin's requests take one of HUB_ADMIN_CONCURRENCY slots of the process."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.admin_slots = threading.BoundedSemaphore(settings.HUB_ADMIN_CONCURRENCY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(ADMIN):
            return self.get_response(request)
        if not self.admin_slots.acquire(blocking=False):
            count_shed(request.path_info)
            return error_response(overloaded())
        try:
            return self.get_response(request)
        finally:
            self.admin_slots.release()
