"""The restaurant's decisions: lifecycle rules, idempotency, the provider call each one queues, the API's answers."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from hub import metrics
from providers.adapters import ADAPTERS
from providers.adapters.base import REJECT_REASONS, Decision, NoCall, ProviderCall
from providers.adapters.careem import CANCELLATION_REASONS
from providers.calls import call_now
from providers.decisions import InvalidReason, InvalidTransition, OrderNotFound, order_decide
from providers.models import Order, OrderDecision, OrderEvent
from providers.tests.factories import BranchFactory, OrderFactory, ProviderFactory
from webhooks.models import OutboxMessage
from webhooks.tests.factories import DestinationFactory

pytestmark = pytest.mark.django_db
CAREEM_REASONS = {"ITEM_PERMANENTLY_NOT_AVAILABLE", "ITEM_TEMPORARILY_UNAVAILABLE", "KITCHEN_TOO_BUSY_TO_PREPARE_ORDER",
                  "OUT_OF_KITCHEN_OPERATIONAL_HOURS", "OUTLET_CLOSED", "PARTNER_POS_OUTAGE", "PARTNER_ORDER_TIMEOUT", "OTHER"}
MIDDLEWARE = "http://127.0.0.1:8005"


@pytest.fixture(autouse=True)
def destinations(settings):
    settings.TALABAT_MIDDLEWARE_URL = MIDDLEWARE
    settings.CAREEM_API_BASE_URL = "http://127.0.0.1:8004/pos/api/v1"
    DestinationFactory(name="backend")


def careem_order(**fields) -> Order:
    return OrderFactory.create(provider="careem", external_order_id="62504546", branch_id="loc_amman_abdoun",
                        provider_refs={"brandId": "brand_shawarma_x"}, **fields)


def talabat_order(callbacks: dict | None = None, **fields) -> Order:
    token = "5f373562-591a-4db9-8609-7eec7880f28d"
    callbacks = callbacks if callbacks is not None else {
        "orderAcceptedUrl": f"{MIDDLEWARE}/v2/order/status/{token}",
        "orderRejectedUrl": f"{MIDDLEWARE}/v2/order/status/{token}",
        "orderPreparedUrl": f"{MIDDLEWARE}/v2/orders/{token}/preparation-completed",
    }
    return OrderFactory.create(provider="talabat", external_order_id="ord-1", branch_id="kw-684213",
                        provider_refs={"token": token, "callbackUrls": callbacks}, **fields)


def provider_calls(destination: str) -> list[dict]:
    """The calls queued to a provider, as they would be sent now."""
    calls = [call_now(ADAPTERS[destination], m) for m in OutboxMessage.objects.filter(destination__name=destination)
             .order_by("id")]
    return [{"method": c.method, "url": c.url, "body": c.body, "headers": c.headers} for c in calls]


def test_accept_queues_one_careem_put_with_its_headers_and_moves_the_order():
    order = careem_order()

    result = order_decide(order_id=order.id, action="accept", decided_by="backend")

    order.refresh_from_db()
    assert (result.status, result.duplicate, result.call, order.status) == ("ACCEPTED", False, "queued", "ACCEPTED")
    [call] = provider_calls("careem")
    assert (call["method"], call["url"], call["body"]) == (
        "PUT", "http://127.0.0.1:8004/pos/api/v1/orders/62504546", {"state": "accepted"})
    assert call["headers"]["Brand-Id"] == "brand_shawarma_x" and call["headers"]["Branch-Id"] == "loc_amman_abdoun"
    assert call["headers"]["User-Agent"]
    message = OutboxMessage.objects.get(destination__name="careem")
    assert message.ordering_key == f"order:{order.id}:provider"
    event = OrderEvent.objects.get(order=order)
    assert (event.event_type, event.previous_status, event.status, event.applied) == ("decision.accept", "NEW", "ACCEPTED", True)
    assert OrderDecision.objects.get(order=order).decided_by == "backend"


def test_the_same_decision_twice_queues_one_call():
    order = careem_order()

    first = order_decide(order_id=order.id, action="accept", decided_by="backend")
    again = order_decide(order_id=order.id, action="accept", decided_by="backend")

    assert (first.duplicate, again.duplicate) == (False, True)
    assert len(provider_calls("careem")) == 1 and OrderDecision.objects.count() == 1


@pytest.mark.parametrize(("done", "action"), [
    (["reject"], "accept"), ([], "ready"), ([], "picked-up"), (["accept", "reject"], "ready"),
])
def test_forbidden_transitions_are_refused_and_send_nothing(done, action):
    order = careem_order()
    for earlier in done:
        order_decide(order_id=order.id, action=earlier, decided_by="backend", reason="TOO_BUSY")
    calls_before = len(provider_calls("careem"))

    with pytest.raises(InvalidTransition):
        order_decide(order_id=order.id, action=action, decided_by="backend")

    assert len(provider_calls("careem")) == calls_before


@pytest.mark.parametrize("status", ["CANCELLED", "DELIVERED"])
def test_nothing_follows_a_final_status(status):
    order = careem_order(status=status)

    for action in ("accept", "reject", "ready", "picked-up"):
        with pytest.raises(InvalidTransition):
            order_decide(order_id=order.id, action=action, decided_by="backend", reason="TOO_BUSY")


def test_an_unknown_reason_is_refused_and_an_unknown_order_is_not_found():
    order = careem_order()

    with pytest.raises(InvalidReason):
        order_decide(order_id=order.id, action="reject", decided_by="backend", reason="BORED")
    with pytest.raises(OrderNotFound):
        order_decide(order_id="00000000-0000-0000-0000-000000000000", action="accept", decided_by="backend")
    assert provider_calls("careem") == []


def test_reject_too_busy_becomes_careems_kitchen_too_busy():
    order = careem_order()

    order_decide(order_id=order.id, action="reject", decided_by="backend", reason="TOO_BUSY")

    assert provider_calls("careem")[0]["body"] == {"state": "cancelled",
                                                   "cancellation_reason": "KITCHEN_TOO_BUSY_TO_PREPARE_ORDER"}


def test_every_hub_reason_maps_to_a_valid_careem_reason():
    careem = ADAPTERS["careem"]
    for reason in sorted(REJECT_REASONS):
        call = careem.decision_call(Decision(action="reject", hub_order_id="h", external_order_id="1", branch_id="b",
                                             provider_refs={}, reason=reason))
        assert isinstance(call, ProviderCall) and call.body is not None
        assert call.body["cancellation_reason"] in CAREEM_REASONS, reason
    assert set(CANCELLATION_REASONS) <= REJECT_REASONS
    assert len(REJECT_REASONS) == 24


def test_talabat_accept_goes_to_the_callback_url_at_least_two_minutes_ahead():
    order = talabat_order()
    before = datetime.now(UTC)

    order_decide(order_id=order.id, action="accept", decided_by="backend", preparation_minutes=1)

    [call] = provider_calls("talabat")
    assert call["url"] == order.provider_refs["callbackUrls"]["orderAcceptedUrl"] and call["method"] == "POST"
    assert call["body"]["status"] == "order_accepted" and call["body"]["remoteOrderId"] == str(order.id)
    acceptance = datetime.fromisoformat(call["body"]["acceptanceTime"].replace("Z", "+00:00"))
    assert acceptance >= before.replace(microsecond=0) + timedelta(minutes=2)


def test_talabat_preparation_defaults_to_the_branch_then_twenty_minutes():
    BranchFactory(provider=ProviderFactory(name="talabat"), external_id="kw-684213", preparation_minutes=35)
    order = talabat_order()
    before = datetime.now(UTC).replace(microsecond=0)

    order_decide(order_id=order.id, action="accept", decided_by="backend")

    acceptance = datetime.fromisoformat(provider_calls("talabat")[0]["body"]["acceptanceTime"].replace("Z", "+00:00"))
    assert timedelta(minutes=35) <= acceptance - before <= timedelta(minutes=35, seconds=5)


def test_talabat_ready_is_an_empty_post_to_the_prepared_url():
    order = talabat_order(status="ACCEPTED")

    order_decide(order_id=order.id, action="ready", decided_by="backend")

    [call] = provider_calls("talabat")
    assert call["url"].endswith("/preparation-completed") and call["body"] is None


def test_a_missing_callback_url_is_recorded_as_not_applicable():
    order = talabat_order(status="READY")

    result = order_decide(order_id=order.id, action="picked-up", decided_by="backend")

    order.refresh_from_db()
    assert (result.call, order.status, order.flag) == ("not_applicable", "PICKED_UP", "")
    assert provider_calls("talabat") == []


def test_a_callback_url_on_a_foreign_host_is_never_queued_and_the_order_is_flagged():
    order = talabat_order({"orderAcceptedUrl": "https://attacker.example/v2/order/status/x"})

    result = order_decide(order_id=order.id, action="accept", decided_by="backend")

    order.refresh_from_db()
    assert result.call == "refused" and provider_calls("talabat") == []
    assert f"is not on {MIDDLEWARE}" in order.flag


def test_a_callback_url_that_is_not_http_is_refused():
    decision = Decision(action="accept", hub_order_id="h", external_order_id="1", branch_id="b",
                        provider_refs={"callbackUrls": {"orderAcceptedUrl": "ftp://127.0.0.1:8005/x"}})
    assert isinstance(ADAPTERS["talabat"].decision_call(decision), NoCall)


def test_decisions_from_the_admin_or_auto_tell_the_backend_too():
    order = careem_order()

    order_decide(order_id=order.id, action="accept", decided_by="admin:ops", notify_backend=True)

    [message] = OutboxMessage.objects.filter(destination__name="backend")
    assert message.payload["status"] == "ACCEPTED" and message.payload["previousStatus"] == "NEW"
    assert message.ordering_key == f"order:{order.id}"


def test_undecided_orders_near_their_deadline_are_counted_in_the_metric():
    now = timezone.now()
    careem_order(deadline_at=now + timedelta(minutes=2))
    OrderFactory(provider="careem", deadline_at=now + timedelta(minutes=9))
    OrderFactory(provider="talabat", deadline_at=now - timedelta(minutes=1))
    OrderFactory(provider="talabat", status="ACCEPTED", deadline_at=now)

    text = metrics.scrape().decode()

    assert 'hub_orders_awaiting_decision{near_deadline="true",provider="careem"} 1.0' in text
    assert 'hub_orders_awaiting_decision{near_deadline="false",provider="careem"} 1.0' in text
    assert 'hub_orders_awaiting_decision{near_deadline="true",provider="talabat"} 1.0' in text
    assert 'hub_orders_awaiting_decision{near_deadline="false",provider="talabat"} 0.0' in text


# --- the API ---------------------------------------------------------------------------------

def post(client, order_id, action: str, body: dict | bytes | None = None, key: str | None = None):
    data = body if isinstance(body, bytes) else json.dumps(body or {})
    return client.post(f"/api/orders/{order_id}/{action}", data=data, content_type="application/json",
                       HTTP_X_AUTH=settings.BACKEND_CALLBACK_KEY if key is None else key)


def test_the_api_answers_202_then_200_duplicate(client):
    order = careem_order()

    first = post(client, order.id, "accept", {"preparationMinutes": 15, "unknown": [1.5, None]})
    again = post(client, order.id, "accept")

    assert first.status_code == 202 and first.json() == {"orderId": str(order.id), "action": "accept",
                                                         "status": "ACCEPTED", "call": "queued"}
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert len(provider_calls("careem")) == 1


@pytest.mark.parametrize("key", ["", "wrong", settings.BACKEND_CALLBACK_KEY + "x"])
def test_the_api_needs_the_callback_key(client, key):
    order = careem_order()

    answer = post(client, order.id, "accept", key=key)

    assert answer.status_code == 401 and answer.json()["error"]["code"] == "UNAUTHORIZED"
    assert provider_calls("careem") == []


def test_the_api_answers_409_422_404_and_400(client):
    order = careem_order()

    assert post(client, order.id, "ready").json()["error"]["code"] == "INVALID_TRANSITION"
    assert post(client, order.id, "ready").status_code == 409
    unknown_reason = post(client, order.id, "reject", {"reason": "BORED"})
    assert (unknown_reason.status_code, unknown_reason.json()["error"]["code"]) == (422, "INVALID_REASON")
    assert post(client, "00000000-0000-0000-0000-000000000000", "accept").status_code == 404
    assert post(client, order.id, "accept", b"{not json").status_code == 400
    assert post(client, order.id, "accept", {"preparationMinutes": 0}).status_code == 400
    assert post(client, order.id, "accept", {"preparationMinutes": True}).status_code == 400
    assert post(client, order.id, "reject", {"reason": ["TOO_BUSY"]}).status_code == 400
    assert post(client, order.id, "accept", b"[1]").status_code == 400
    assert client.post("/api/orders/not-a-uuid/accept", HTTP_X_AUTH=settings.BACKEND_CALLBACK_KEY).status_code == 404
    assert provider_calls("careem") == []


def test_a_database_outage_answers_503(client, monkeypatch):
    from django.db import OperationalError

    order = careem_order()

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("providers.apis.order_decide", down)

    answer = post(client, order.id, "accept")

    assert answer.status_code == 503 and answer.has_header("Retry-After")


def test_a_huge_body_is_refused_with_413(client):
    order = careem_order()

    answer = post(client, order.id, "reject", b'{"reason": "TOO_BUSY", "message": "' + b"x" * (2 * 1024 * 1024) + b'"}')

    assert answer.status_code == 413 and answer.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert provider_calls("careem") == []


def test_a_validation_error_has_the_wallets_shape(client):
    """One VALIDATION_ERROR shape everywhere (SPEC §3): `details` maps each field to its messages."""
    order = careem_order()

    bad_minutes = post(client, order.id, "accept", {"preparationMinutes": 0}).json()["error"]
    bad_reject = post(client, order.id, "reject", {"reason": 5, "message": ["x"]}).json()["error"]

    assert bad_minutes["code"] == "VALIDATION_ERROR"
    assert bad_minutes["details"] == {"preparationMinutes": ["must be a whole number from 1 to 120"]}
    assert set(bad_reject["details"]) == {"reason", "message"}
    assert all(isinstance(messages, list) for messages in bad_reject["details"].values())
