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


def answer(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, body = raw.split(b"\r\n\r\n", 1)
    status, *lines = head.decode("latin-1").split("\r\n")
    return status, dict(line.split(": ", 1) for line in lines), body


@pytest.mark.parametrize(("path", "route"), [
    ("/wallet/debit", "wallet-debit"), ("/api/webhooks/careem", "provider-webhook"),
    ("/api/webhooks/talabat/order/r-1", "talabat-dispatch"),
    ("/api/orders/9cb60cce-25c1-4c79-a937-a76dfc581c93/accept", "order-decision"), ("/nowhere", "not-found"),
])
def test_a_request_that_waited_past_the_limit_is_shed_with_the_usual_error_body(settings, client, path, route):
    settings.HUB_QUEUE_TIMEOUT_MS = 250
    before = sample(client.get("/metrics").content.decode(), "hub_requests_shed_total", route=route)

    assert admission.waited_too_long(path, 0.251) is True
    admission.count_shed(path)
    status, headers, body = answer(admission.shed_answer_bytes(keep_alive=True))

    assert (status, headers["Retry-After"], headers["Content-Type"], headers["Connection"]) == (
        "HTTP/1.1 503 Service Unavailable", "1", "application/json", "keep-alive")
    assert json.loads(body) == {"status": "OVERLOADED", "error": {
        "code": "OVERLOADED", "message": "The hub is overloaded; retry shortly.", "details": None}}
    assert body == admission.error_response(admission.overloaded()).content  # what Django's views answer
    assert headers["Content-Length"] == str(len(body))  # the keep-alive connection stays usable
    assert answer(admission.shed_answer_bytes(keep_alive=False))[1]["Connection"] == "close"
    assert sample(client.get("/metrics").content.decode(), "hub_requests_shed_total", route=route) == before + 1


def test_a_request_within_the_limit_is_served(settings):
    settings.HUB_QUEUE_TIMEOUT_MS = 250
    assert admission.waited_too_long("/wallet/debit", 0.249) is False
    assert admission.waited_too_long("/wallet/debit", 0.9) is True


@pytest.mark.parametrize("path", ["/health", "/health/ready", "/metrics"])
def test_health_and_metrics_are_never_shed(settings, path):
    settings.HUB_QUEUE_TIMEOUT_MS = 250
    assert admission.waited_too_long(path, 5.0) is False


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
