"""Admission control (`hub.admission`): shed, don't queue."""

import json
import threading

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from hub import admission
from hub.tests.test_metrics import sample

pytestmark = pytest.mark.django_db


def gate(view=lambda request: HttpResponse("served")) -> admission.AdminShare:
    return admission.AdminShare(view)


def after_waiting(milliseconds: float) -> None:
    admission.waited(milliseconds / 1000)


class Served:
    """A WSGI application standing for Django's behind the queue check."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, environ, start_response):
        self.paths.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"served"]


def call(application, path: str, method: str = "POST") -> tuple[str, dict, bytes]:
    answer: dict = {}

    def start_response(status, headers):
        answer.update(status=status, headers=dict(headers))

    body = b"".join(application({"PATH_INFO": path, "REQUEST_METHOD": method}, start_response))
    return answer["status"], answer["headers"], body


@pytest.mark.parametrize(("path", "route"), [
    ("/wallet/debit", "wallet-debit"), ("/api/webhooks/careem", "provider-webhook"),
    ("/api/webhooks/talabat/order/r-1", "talabat-dispatch"),
    ("/api/orders/9cb60cce-25c1-4c79-a937-a76dfc581c93/accept", "order-decision"), ("/nowhere", "not-found"),
])
def test_a_request_that_waited_past_the_limit_is_shed_with_the_usual_error_body(settings, client, path, route):
    settings.HUB_QUEUE_TIMEOUT_MS = 250
    django = Served()
    before = sample(client.get("/metrics").content.decode(), "hub_requests_shed_total", route=route)

    after_waiting(251)
    status, headers, body = call(admission.ShedWhenQueued(django), path)

    assert (status, headers["Retry-After"], headers["Content-Type"], django.paths) == (
        "503 Service Unavailable", "1", "application/json", [])
    assert json.loads(body) == {"status": "OVERLOADED", "error": {
        "code": "OVERLOADED", "message": "The hub is overloaded; retry shortly.", "details": None}}
    assert body == admission.error_response(admission.overloaded()).content  # what Django's views answer
    assert headers["Content-Length"] == str(len(body))  # the keep-alive connection stays usable
    assert sample(client.get("/metrics").content.decode(), "hub_requests_shed_total", route=route) == before + 1


def test_a_request_within_the_limit_is_served_and_the_wait_is_not_carried_to_the_next(settings):
    settings.HUB_QUEUE_TIMEOUT_MS = 250
    django = Served()
    shed_when_queued = admission.ShedWhenQueued(django)

    after_waiting(249)
    assert call(shed_when_queued, "/wallet/debit")[2] == b"served"
    after_waiting(900)
    assert call(shed_when_queued, "/wallet/debit")[0].startswith("503")
    assert call(shed_when_queued, "/wallet/debit")[2] == b"served"  # the next request on the connection
    assert django.paths == ["/wallet/debit", "/wallet/debit"]


@pytest.mark.parametrize("path", ["/health", "/health/ready", "/metrics"])
def test_health_and_metrics_are_never_shed(settings, path):
    settings.HUB_QUEUE_TIMEOUT_MS = 250
    after_waiting(5000)
    assert call(admission.ShedWhenQueued(Served()), path, "GET")[2] == b"served"


def test_the_admin_gets_its_share_of_threads_and_no_more(settings):
    settings.HUB_ADMIN_CONCURRENCY = 2
    entered, release = threading.Barrier(3), threading.Event()

    def slow_admin_page(request):
        if request.GET.get("slow"):
            entered.wait(5)
            release.wait(5)
        return HttpResponse("page")

    admin_gate = gate(slow_admin_page)
    answers: list[int] = []
    pages = [threading.Thread(target=lambda: answers.append(admin_gate(RequestFactory().get("/admin/?slow=1")).status_code))
             for _ in range(2)]
    for page in pages:
        page.start()
    entered.wait(5)  # both admin slots taken

    third = admin_gate(RequestFactory().get("/admin/webhooks/outboxmessage/"))
    machine = gate()(RequestFactory().post("/wallet/debit"))  # another instance: the machine endpoints' own
    release.set()
    for page in pages:
        page.join(5)

    assert (third.status_code, third["Retry-After"], json.loads(third.content)["error"]["code"]) == (503, "1", "OVERLOADED")
    assert machine.content == b"served"
    assert answers == [200, 200]
    assert admin_gate(RequestFactory().get("/admin/")).status_code == 200  # slots given back
