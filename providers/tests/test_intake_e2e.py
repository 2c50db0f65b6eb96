"""Intake over real HTTP: the seed's curl example to the backend fake, and concurrent duplicates."""

import threading
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

from hub.signing import hex_hmac
from hub.testing import wait_until
from providers.models import InboundWebhook, Order, Provider
from webhooks.models import OutboxMessage
from webhooks.tests.factories import DestinationFactory
from providers.config import intake_settings

pytestmark = pytest.mark.e2e
SIMPLE = (Path(__file__).resolve().parents[2] / "providers/tests/fixtures/careem/simple_form.json").read_bytes()


def careem_headers(body: bytes) -> dict:
    secret = intake_settings("careem").secret
    return {"Content-Type": "application/json",
            "x-careem-signature": hex_hmac(secret=secret, message=body)}


@pytest.mark.django_db(transaction=True)
def test_the_seeds_curl_example_reaches_the_backend_once_with_x_auth(live_server, backend_mock, start_worker):
    Provider.objects.create(name="careem")
    DestinationFactory(name="backend", url=backend_mock.url, signing_secrets="", auth_header_name="X-AUTH",
                       auth_header_value=settings.BACKEND_API_KEY)
    start_worker()

    first = requests.post(f"{live_server.url}/api/webhooks/careem", data=SIMPLE, headers=careem_headers(SIMPLE), timeout=10)
    again = requests.post(f"{live_server.url}/api/webhooks/careem", data=SIMPLE, headers=careem_headers(SIMPLE), timeout=10)

    assert first.status_code == 200 and set(first.json()) == {"success", "webhookId", "status"}
    assert again.json()["duplicate"] is True and again.json()["webhookId"] == first.json()["webhookId"]
    wait_until(lambda: backend_mock.control("orders")["count"] == 1, timeout=30, what="the order at the backend")
    received = backend_mock.requests("orders")
    assert len(received) == 1 and received[0]["headers"]["X-Auth"] == settings.BACKEND_API_KEY
    order = backend_mock.control("orders")["orders"][0]["order"]
    assert (order["externalOrderId"], order["currency"], order["totals"]["totalMinor"]) == ("TEST123", "JOD", 10000)


@pytest.mark.django_db(transaction=True)
def test_the_same_webhook_ten_times_at_once_makes_one_order_and_one_forward(live_server):
    Provider.objects.create(name="careem")
    DestinationFactory(name="backend", url="http://127.0.0.1:9", enabled=False)  # forwarding is counted, not sent
    barrier, answers, lock = threading.Barrier(10), [], threading.Lock()

    def send() -> None:
        barrier.wait()
        answer = requests.post(f"{live_server.url}/api/webhooks/careem", data=SIMPLE, headers=careem_headers(SIMPLE), timeout=30)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connection.close()

    assert sorted(a.status_code for a in answers) == [200] * 10
    assert sum(1 for a in answers if not a.json().get("duplicate")) == 1
    assert len({a.json()["webhookId"] for a in answers}) == 1
    assert (Order.objects.count(), OutboxMessage.objects.count()) == (1, 1)
    assert InboundWebhook.objects.filter(outcome="accepted").count() == 1
    assert InboundWebhook.objects.filter(outcome="duplicate").count() == 9
