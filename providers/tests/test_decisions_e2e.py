"""Decisions reach the real Careem and Talabat fakes over HTTP: tokens, headers, 401 and 409 rules, real workers."""

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from hub.signing import hex_hmac
from hub.testing import wait_until
from mock_services.testing import start_mock
from providers.config import intake_settings
from providers.models import Order, OrderDecision
from providers.tests.conftest import point_at, provider_env
from providers.tests.factories import BranchFactory, OrderFactory, ProviderFactory
from webhooks.models import OutboxMessage
from webhooks.outbox import outbox_deliver
from webhooks.tests.factories import DestinationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def provider_fake(name: str, mock_processes, settings):
    mock = mock_processes(name)
    point_at(mock, settings)
    DestinationFactory(name="backend", url="http://127.0.0.1:9", enabled=False)  # backend messages stay queued
    return mock


@pytest.fixture
def careem(mock_processes, settings):
    return provider_fake("careem", mock_processes, settings)


@pytest.fixture
def talabat(mock_processes, settings):
    return provider_fake("talabat", mock_processes, settings)


def careem_order(external_id: str = "62504546") -> Order:
    return OrderFactory.create(provider="careem", external_order_id=external_id, branch_id="loc_amman_abdoun",
                        provider_refs={"brandId": "brand_shawarma_x"})


def talabat_order(mock, token: str = "5f373562") -> Order:
    callbacks = {"orderAcceptedUrl": f"{mock.url}/v2/order/status/{token}",
                 "orderRejectedUrl": f"{mock.url}/v2/order/status/{token}",
                 "orderPreparedUrl": f"{mock.url}/v2/orders/{token}/preparation-completed"}
    return OrderFactory.create(provider="talabat", external_order_id="ord-1", branch_id="kw-684213",
                        provider_refs={"token": token, "callbackUrls": callbacks})


def decide(client, order: Order, action: str, body: dict | None = None):
    return client.post(f"/api/orders/{order.id}/{action}", data=json.dumps(body or {}), content_type="application/json",
                       HTTP_X_AUTH=settings.BACKEND_CALLBACK_KEY)


def provider_message(order: Order, action: str) -> OutboxMessage:
    return OutboxMessage.objects.get(payload__orderId=str(order.id), payload__action=action)


def test_accept_reaches_careem_once_with_bearer_brand_branch_and_user_agent(client, careem):
    order = careem_order()

    assert decide(client, order, "accept").status_code == 202
    assert decide(client, order, "accept").status_code == 200
    outbox_deliver()

    [put] = careem.requests("order_state")
    assert (put["method"], put["path"], json.loads(put["body"])) == ("PUT", "/pos/api/v1/orders/62504546",
                                                                     {"state": "accepted"})
    assert put["headers"]["Authorization"].startswith("Bearer ") and put["status"] == 200
    assert (put["headers"]["Brand-Id"], put["headers"]["Branch-Id"]) == ("brand_shawarma_x", "loc_amman_abdoun")
    assert put["headers"]["User-Agent"]
    assert len(careem.requests("token")) == 1
    assert careem.control("orders")["orders"]["62504546"]["state"] == "accepted"
    assert provider_message(order, "accept").status == OutboxMessage.Status.DELIVERED


def test_reject_too_busy_reaches_careem_as_kitchen_too_busy(client, careem):
    order = careem_order()

    decide(client, order, "reject", {"reason": "TOO_BUSY", "message": "Friday rush"})
    outbox_deliver()

    state = careem.control("orders")["orders"]["62504546"]
    assert state["state"] == "cancelled" and state["history"][-1]["reason"] == "KITCHEN_TOO_BUSY_TO_PREPARE_ORDER"


def test_a_scripted_401_drops_the_token_logs_in_once_more_and_succeeds(client, careem):
    order = careem_order()
    careem.script("order_state", [{"status": 401, "body": {"error": "token revoked"}}])

    decide(client, order, "accept")
    outbox_deliver()

    assert [r["status"] for r in careem.requests("order_state")] == [401, 200]
    assert len(careem.requests("token")) == 2
    assert provider_message(order, "accept").status == OutboxMessage.Status.DELIVERED


def test_an_expired_token_costs_exactly_one_new_login(client, settings, process_log_dir):
    # cached for 3 s: two deliveries fit in that on a loaded machine (with 1 s, CI once logged in twice)
    mock = start_mock("careem", log_dir=process_log_dir, MOCK_PROVIDER_TOKEN_SECONDS="6")
    try:
        point_at(mock, settings)
        DestinationFactory(name="backend", url="http://127.0.0.1:9", enabled=False)
        first, second = careem_order("A-1"), careem_order("A-2")
        decide(client, first, "accept")
        decide(client, second, "accept")
        outbox_deliver()
        logins_while_fresh = len(mock.requests("token"))

        wait_until(lambda: cache.get("provider-token:careem") is None, timeout=10, what="the cached token to expire")
        decide(client, first, "ready")
        outbox_deliver()

        assert logins_while_fresh == 1
        assert len(mock.requests("token")) == 2
        assert [r["status"] for r in mock.requests("order_state")] == [200, 200, 200]
    finally:
        mock.stop()


def test_talabat_accept_and_ready_reach_the_callback_urls(client, talabat):
    order = talabat_order(talabat)
    before = timezone.now()

    decide(client, order, "accept", {"preparationMinutes": 1})
    decide(client, order, "ready")
    outbox_deliver()
    outbox_deliver()  # ready waits for accept: same ordering key

    [accepted] = talabat.requests("order_status")
    body = json.loads(accepted["body"])
    assert body["status"] == "order_accepted" and body["remoteOrderId"] == str(order.id)
    assert timezone.datetime.fromisoformat(body["acceptanceTime"].replace("Z", "+00:00")) >= (
        before.replace(microsecond=0) + timedelta(minutes=2))
    [prepared] = talabat.requests("prepared")
    assert prepared["body"] == "" and prepared["status"] == 200
    assert talabat.control("orders")["orders"]["5f373562"]["state"] == "PREPARED"
    assert len(talabat.requests("login")) == 1


def test_a_409_waiting_for_acknowledgement_is_retried_in_10_seconds_until_it_succeeds(client, talabat):
    order = talabat_order(talabat)
    talabat.script("order_status", [{"status": 409, "body": {"currentState": "WAITING_FOR_ACKNOWLEDGEMENT"}}])

    decide(client, order, "accept")
    outbox_deliver()
    message = provider_message(order, "accept")
    message.refresh_from_db()
    wait = (message.next_attempt_at - timezone.now()).total_seconds()

    assert message.status == OutboxMessage.Status.PENDING and message.attempts == 1
    assert 8 <= wait <= 10.5
    assert message.destination.circuit.state == "closed"
    OutboxMessage.objects.filter(id=message.id).update(next_attempt_at=timezone.now())
    outbox_deliver()
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DELIVERED
    assert [r["status"] for r in talabat.requests("order_status")] == [409, 200]


def test_a_409_in_another_state_is_a_dead_letter_without_retry(client, talabat):
    order = talabat_order(talabat)
    talabat.script("order_status", [{"status": 409, "body": {"currentState": "CANCELLED"}}])

    decide(client, order, "accept")
    outbox_deliver()
    outbox_deliver()

    message = provider_message(order, "accept")
    assert message.status == OutboxMessage.Status.DEAD_LETTER and message.attempts == 1
    assert len(talabat.requests("order_status")) == 1


def test_many_decisions_from_several_worker_processes_make_one_token_request(client, careem, start_worker):
    orders = [careem_order(f"W-{n}") for n in range(12)]
    workers = [start_worker(**provider_env(careem)) for _ in range(3)]

    for order in orders:
        assert decide(client, order, "accept").status_code == 202

    wait_until(lambda: len(careem.requests("order_state")) >= 12, timeout=60, what="12 acceptances at the fake")
    assert len(careem.requests("token")) == 1
    assert {r["status"] for r in careem.requests("order_state")} == {200}
    assert len(workers) == 3


def test_an_auto_accept_branch_is_accepted_at_careem_with_no_backend_call(client, careem):
    provider = ProviderFactory(name="careem")
    BranchFactory(provider=provider, external_id="loc_amman_abdoun", currency="JOD", auto_accept=True)
    body = (FIXTURES / "careem/order_created_jod.json").read_bytes()

    answer = client.post("/api/webhooks/careem", data=body, content_type="application/json",
                         HTTP_X_CAREEM_SIGNATURE=hex_hmac(secret=intake_settings("careem").secret, message=body))
    outbox_deliver()

    assert answer.status_code == 200
    order = Order.objects.get()
    decision = OrderDecision.objects.get(order=order)
    assert (order.status, decision.decided_by, decision.call) == ("ACCEPTED", "auto", "queued")
    assert order.deadline_at == order.placed_at + timedelta(minutes=settings.CAREEM_ACCEPT_DEADLINE_MINUTES)
    assert careem.control("orders")["orders"]["62504546"]["state"] == "accepted"


def test_decide_order_sends_the_backends_call_by_provider_and_id(live_server, careem):
    order = careem_order()
    out = io.StringIO()

    call_command("decide_order", "accept", "careem:62504546", "--url", live_server.url, stdout=out)
    outbox_deliver()

    assert f"POST /api/orders/{order.id}/accept → HTTP 202" in out.getvalue()
    assert careem.control("orders")["orders"]["62504546"]["state"] == "accepted"
    with pytest.raises(CommandError, match="no careem order"):
        call_command("decide_order", "accept", "careem:nope", "--url", live_server.url)
