"""Uber Eats: the thin event answered at once, the order fetched by the outbox from the real fake and only
then an order, failing fetches kept for reprocessing, decisions (providers-menus.md B.3, 4.1; SPEC §7, §7b).

Fixtures: `order_docs_usd.json` is the documented `GET /v2/eats/order` example of B.3 as stored there;
`event_orders_notification.json` follows the documented envelope (ids of that example); the cancel event
and `order_amount_e5_aed.json` (the newer API's money, options nested two deep) are ours.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hub.json_input import TooDeep, load_json
from hub.json_strategies import dumps, fresh_ids, mutated
from hub.signing import hex_hmac
from providers.adapters import ADAPTERS
from providers.adapters.base import Context
from providers.adapters.ubereats import parse_order
from providers.intake import Inbound, intake_process
from providers.models import InboundWebhook, Order
from providers.reprocess import failed_webhooks, inbound_reprocess
from providers.tests.factories import BranchFactory, ProviderFactory
from webhooks.models import Destination, OutboxMessage
from webhooks.outbox import outbox_deliver
from webhooks.replay import outbox_replay
from webhooks.tests.factories import DestinationFactory

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ubereats"
URL = "/api/webhooks/ubereats"
STORE = "c7f1dc2f-fabe-4997-845c-cad26fdcb894"
ORDER_ID = "f9f363d1-e1c2-4595-b477-c649845bc953"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def send(client, payload: dict | bytes, signature: str | None = None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {} if signature == "" else {
        "X-Uber-Signature": signature or hex_hmac(secret=settings.UBEREATS_CLIENT_SECRET, message=body)}
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def event(kind: str = "notification", order_id: str = ORDER_ID, event_id: str | None = None) -> dict:
    payload = fixture(f"event_orders_{kind}.json")
    payload["meta"]["resource_id"] = order_id
    payload["event_id"] = event_id or payload["event_id"]
    return payload


@pytest.fixture(autouse=True)
def ubereats(db, settings):
    settings.WEBHOOK_RATE_LIMIT = 10**6
    provider = ProviderFactory(name="ubereats")
    BranchFactory(provider=provider, external_id=STORE, currency="USD")
    DestinationFactory(name="backend", url="http://127.0.0.1:9", enabled=False)  # messages are counted, not sent
    return provider


def fetches() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(destination__name="ubereats", event_type="order.fetch").order_by("id"))


# --- the event ---------------------------------------------------------------------------------------

def test_an_event_is_answered_200_with_an_empty_body_and_only_queues_the_fetch(client):
    answer = send(client, event())

    assert (answer.status_code, answer.content) == (200, b"")
    [row] = InboundWebhook.objects.all()
    assert (row.outcome, row.dedupe_key, row.status_code) == ("accepted", "event:c4d2261e-2779-4eb6-beb0-cb41235c751e", 200)
    [fetch] = fetches()
    assert fetch.payload["fetch"]["externalOrderId"] == ORDER_ID and fetch.payload["fetch"]["webhookId"] == str(row.id)
    assert Order.objects.count() == 0


def test_the_signature_is_hex_hmac_of_the_raw_body_with_the_client_secret(client):
    body = json.dumps(event()).encode()
    good = hex_hmac(secret=settings.UBEREATS_CLIENT_SECRET, message=body)

    for bad in ("", good[:-1] + ("0" if good[-1] != "0" else "1"), hex_hmac(secret="another-secret", message=body),
                hex_hmac(secret=settings.UBEREATS_CLIENT_SECRET, message=body + b" ")):
        answer = send(client, body, bad)
        assert (answer.status_code, answer.json()["error"]["code"]) == (401, "UNAUTHORIZED")
    assert send(client, body, good).status_code == 200
    assert len(fetches()) == 1


def test_the_same_event_twice_is_one_fetch_and_a_duplicate_answered_the_same_way(client):
    first, again = send(client, event()), send(client, event())

    assert (again.status_code, again.content) == (200, b"")
    assert [row.outcome for row in InboundWebhook.objects.order_by("received_at")] == ["accepted", "duplicate"]
    assert InboundWebhook.objects.get(outcome="duplicate").duplicate_of == InboundWebhook.objects.get(outcome="accepted").id
    assert len(fetches()) == 1 and first.status_code == 200


def test_store_and_other_events_are_audited_and_fetch_nothing(client):
    payload = {"event_id": "e-1", "event_type": "store.provisioned", "meta": {"user_id": STORE}, "event_time": 1}

    assert (send(client, payload).status_code, len(fetches())) == (200, 0)
    answer = send(client, {"event_type": "orders.notification", "meta": {"user_id": STORE}})
    assert answer.status_code == 422
    assert {e["field"] for e in answer.json()["errors"]} == {"event_id", "meta.resource_id"}


@pytest.mark.parametrize("order_id", ["..", ".", "a\nb", "a\rb", "\t"])
def test_a_resource_id_that_would_change_the_fetch_url_is_refused_and_fetches_nothing(client, order_id):
    """U1: `..` was fetched as GET /v2/eats/ with the bearer token (the client resolved the dot segment)."""
    answer = send(client, event(order_id=order_id))

    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["meta.resource_id"]
    assert fetches() == []


@hypothesis_settings(max_examples=200, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_event_json_with_a_valid_signature_is_200_empty_or_422_with_one_audit_row(data):
    payload = data.draw(mutated(fresh_ids(event(), "event_id")))
    if isinstance(payload, dict) and isinstance(payload.get("meta"), dict):
        payload["meta"]["user_id"] = STORE  # an unknown store is the one 401 (tested above)
    before = InboundWebhook.objects.count()

    answer = send(Client(), dumps(payload))

    assert answer.status_code in {200, 422}, answer.content[:500]
    if answer.status_code == 200:
        assert answer.content == b""
    else:
        assert answer.json()["success"] is False and answer.json()["errors"]
    assert InboundWebhook.objects.count() == before + 1


@hypothesis_settings(max_examples=200, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(["order_docs_usd.json", "order_amount_e5_aed.json"]))
def test_any_fetched_order_is_stored_or_refused_with_one_audit_row_never_lost(data, name):
    payload = data.draw(mutated(fresh_ids(fixture(name), "id")))
    body = dumps(payload)
    before = InboundWebhook.objects.count()
    inbound = Inbound(provider="ubereats", route="order", method="GET", path="/v2/eats/order/x", headers={},
                      body=body, client_address="", context=Context(default_currency="AED"))

    try:
        parsed = load_json(body)
    except TooDeep:
        return  # `providers.fetches.fetched` refuses it for good before intake
    result = intake_process(inbound, ADAPTERS["ubereats"].routes["order"], parsed)

    assert result.outcome in {"accepted", "duplicate", "invalid"}, result
    assert InboundWebhook.objects.count() == before + 1


# --- the fetch, on the real fake -----------------------------------------------------------------------

def seed(mock, order: dict) -> None:
    requests.post(f"{mock.url}/__control/orders", json={"order": order}, timeout=5).raise_for_status()


def deliver_all() -> None:
    while outbox_deliver():
        pass


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_fetched_docs_order_becomes_the_internal_order_from_the_configured_host_only(client, uber):
    seed(uber, fixture("order_docs_usd.json"))
    payload = event()
    payload["resource_href"] = "http://127.0.0.1:9/v2/eats/order/elsewhere"  # never called, never given the bearer
    acked_at = timezone.now()

    send(client, payload)
    deliver_all()

    [get] = uber.requests("order")
    assert (get["method"], get["path"], get["status"]) == ("GET", f"/v2/eats/order/{ORDER_ID}", 200)
    assert get["headers"]["Authorization"].startswith("Bearer ")
    order = Order.objects.get()
    data = order.data
    assert (order.external_order_id, order.branch_id, order.currency, order.total_minor, order.status) == (
        ORDER_ID, STORE, "USD", 218, "NEW")
    assert data["items"] == [{
        "externalId": "Doritos Tortilla Chips (80g)", "productId": None, "name": "Dorito's", "quantity": 1,
        "unitPriceMinor": 218, "totalMinor": 218, "notes": None,
        "modifiers": [{"externalId": "Bold-BBQ", "productId": None, "name": "Bold BBQ", "quantity": 1, "totalMinor": 0,
                       "modifiers": []}]}]
    assert data["totals"] == {"subtotalMinor": 210, "taxMinor": 8, "deliveryFeeMinor": 0, "serviceFeeMinor": 0,
                              "discountMinor": 0, "totalMinor": 218}
    assert data["payment"] == {"method": "cash", "paid": False, "collectMinor": 218}
    assert data["customer"] == {"name": "Johnny", "phone": "+1 555-555-5555", "address": None}
    assert data["notes"] == "Please leave at the door." and data["placedAt"] == "2019-05-14T20:16:54+00:00"
    assert acked_at + timedelta(minutes=11) < order.deadline_at < timezone.now() + timedelta(minutes=11, seconds=31)
    [created] = OutboxMessage.objects.filter(destination__name="backend", event_type="order.created")
    assert created.payload["externalOrderId"] == ORDER_ID
    assert fetches()[0].status == OutboxMessage.Status.DELIVERED
    fetched_row = InboundWebhook.objects.get(method="GET")
    assert (fetched_row.outcome, fetched_row.path) == ("accepted", f"/v2/eats/order/{ORDER_ID}")


def test_the_order_fulfillment_apis_form_reads_field_by_field():
    """The newer form (`{"order"}`, `carts[]`, `payment.payment_detail` in amount_e5, `state: OFFERED`)."""
    event = parse_order(fixture("order_fulfillment_eur.json"), Context(notified_at="2026-11-20T18:02:30+00:00"))

    order = event.order
    assert (event.kind, event.external_order_id, event.status, event.provider_status, event.branch_id) == (
        "order_created", "5c1b7f0e-2d4a-4f7e-9a51-3e8d2b6c1a90", "NEW", "OFFERED", STORE)
    assert event.deadline_at == datetime(2026, 11, 20, 18, 14, tzinfo=UTC)  # 11.5 min after the webhook's answer
    assert (order["currency"], order["placedAt"], order["displayId"], order["fulfillment"], order["estimatedReadyAt"]) == (
        "EUR", "2026-11-20T18:02:11+00:00", "7F3QK", "DELIVERY_BY_UBER", "2026-11-20T18:17:11Z")
    assert order["customer"] == {"name": "Omar K.", "phone": "+31 20 000 0000", "address": None}
    assert order["notes"] == "Extra napkins"
    assert [(i["externalId"], i["name"], i["quantity"], i["unitPriceMinor"], i["totalMinor"], i["mappingKeys"])
            for i in order["items"]] == [
        ("SHW-CHK-L", "Chicken shawarma (large)", 2, 1500, 3250, ["SHW-CHK-L", "SHW-CHK-L"]), ("FRIES", "Fries", 1, 700, 700, ["FRIES"])]
    [garlic] = order["items"][0]["modifiers"]
    assert (garlic["externalId"], garlic["name"], garlic["quantity"], garlic["totalMinor"], garlic["modifiers"]) == (
        "GARLIC", "Garlic sauce", 1, 250, [])
    assert order["totals"] == {"subtotalMinor": 3950, "taxMinor": 360, "deliveryFeeMinor": 0, "serviceFeeMinor": 300,
                               "discountMinor": 150, "totalMinor": 4100}
    assert order["payment"] == {"method": "online", "paid": True, "collectMinor": 0}
    assert order["warnings"] == []  # tax inclusive: 39.50 + 3.00 - 1.50 = 41.00


def test_the_v2_form_still_reads_field_by_field():
    event = parse_order(fixture("order_docs_usd.json"), Context())

    order = event.order
    assert (event.kind, event.status, order["currency"], order["totals"]["totalMinor"]) == ("order_created", "NEW", "USD", 218)
    assert [(i["externalId"], i["quantity"], i["unitPriceMinor"], i["totalMinor"]) for i in order["items"]] == [
        ("Doritos Tortilla Chips (80g)", 1, 218, 218)]
    assert order["customer"]["name"] == "Johnny" and order["payment"]["method"] == "cash"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_an_order_fetched_in_the_fulfillment_apis_form_becomes_the_internal_order(client, uber):
    newer = fixture("order_fulfillment_eur.json")["order"]
    seed(uber, newer)

    send(client, event(order_id=newer["id"]))
    deliver_all()

    stored = Order.objects.get()
    assert (stored.external_order_id, stored.currency, stored.total_minor, stored.status) == (newer["id"], "EUR", 4100, "NEW")
    assert [item["totalMinor"] for item in stored.data["items"]] == [3250, 700]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_amount_e5_money_in_aed_with_options_nested_two_deep(client, uber):
    order = fixture("order_amount_e5_aed.json")
    seed(uber, order)

    send(client, event(order_id=order["id"]))
    deliver_all()

    stored = Order.objects.get()
    assert (stored.currency, stored.total_minor) == ("AED", 5435)
    item = stored.data["items"][0]
    assert (item["quantity"], item["unitPriceMinor"], item["totalMinor"], item["notes"]) == (2, 2350, 4700, "No pickles")
    assert item["modifiers"][0]["totalMinor"] == 200
    assert item["modifiers"][0]["modifiers"][0]["externalId"] == "EXTRA-GARLIC"
    assert stored.data["totals"]["deliveryFeeMinor"] == 500 and stored.data["warnings"][-1].startswith("unmapped")
    assert not any(w.startswith("totals do not add up") for w in stored.data["warnings"])


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_fetch_that_keeps_failing_becomes_a_failed_inbound_webhook_and_reprocessing_fetches_again(client, uber):
    seed(uber, fixture("order_docs_usd.json"))
    uber.script("order", [{"status": 503}, {"status": 500}])
    send(client, event())
    Destination.objects.filter(name="ubereats").update(retry_delays=[0], max_attempts=2)

    deliver_all()
    deliver_all()

    [fetch] = fetches()
    assert (fetch.status, fetch.attempts) == (OutboxMessage.Status.DEAD_LETTER, 2)
    assert Order.objects.count() == 0
    [failed] = failed_webhooks(provider="ubereats")
    assert failed.errors[-1]["field"] == "fetch" and "HTTP 500" in failed.errors[-1]["message"]

    result = inbound_reprocess(webhook=failed)
    deliver_all()

    assert result is not None and result.outcome == "accepted"
    assert Order.objects.get().external_order_id == ORDER_ID
    assert [r["status"] for r in uber.requests("order")] == [503, 500, 200]
    assert list(failed_webhooks(provider="ubereats")) == []


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_dead_lettered_fetch_replayed_from_the_outbox_settles_its_failed_webhook(client, uber):
    send(client, event(order_id=ORDER_ID))
    deliver_all()  # Uber does not know it yet: 404, a dead letter, a failed webhook
    [failed] = failed_webhooks(provider="ubereats")
    seed(uber, fixture("order_docs_usd.json"))

    outbox_replay(messages=OutboxMessage.objects.filter(event_type="order.fetch"), actor="test", filters={})
    deliver_all()

    assert Order.objects.get().external_order_id == ORDER_ID
    failed.refresh_from_db()
    assert failed.reprocessed_as == InboundWebhook.objects.get(method="GET").id
    assert list(failed_webhooks(provider="ubereats")) == []


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_an_order_uber_does_not_know_is_a_dead_letter_at_once_and_a_failed_webhook(client, uber):
    send(client, event(order_id="no-such-order"))

    deliver_all()

    [fetch] = fetches()
    assert (fetch.status, fetch.attempts) == (OutboxMessage.Status.DEAD_LETTER, 1)
    [failed] = failed_webhooks(provider="ubereats")
    assert "HTTP 404" in failed.errors[-1]["message"] and failed.route == "generic"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_cancel_fetched_before_the_notification_creates_the_order_cancelled_once(client, uber):
    order = fixture("order_docs_usd.json")
    order["current_state"] = "CANCELED"
    seed(uber, order)

    send(client, event("cancel"))
    send(client, event("notification"))
    deliver_all()

    stored = Order.objects.get()
    assert stored.status == "CANCELLED"
    assert [m.event_type for m in OutboxMessage.objects.filter(destination__name="backend").order_by("id")] == [
        "order.created", "order.status_changed"]
    assert InboundWebhook.objects.filter(method="GET", outcome="duplicate").count() == 1


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_accept_and_a_later_reject_reach_uber_as_accept_pos_order_and_cancel(client, uber):
    seed(uber, fixture("order_docs_usd.json"))
    send(client, event())
    deliver_all()
    order = Order.objects.get()

    assert decide(client, order, "accept", {"preparationMinutes": 15}).status_code == 202
    assert decide(client, order, "reject", {"reason": "ITEM_UNAVAILABLE", "message": "out of chips"}).status_code == 202
    deliver_all()

    [accept] = uber.requests("accept")
    body = json.loads(accept["body"])
    assert body["external_reference_id"] == str(order.id) and body["reason"] == "accepted" and accept["status"] == 204
    assert abs(body["pickup_time"] - (timezone.now() + timedelta(minutes=15)).timestamp()) < 60
    [cancel] = uber.requests("cancel")
    assert json.loads(cancel["body"]) == {"reason": "OUT_OF_ITEMS", "details": "out of chips"}
    assert uber.control("orders")["orders"][ORDER_ID]["state"] == "CANCELED"
    assert uber.requests("deny") == [] and len(uber.requests("token")) == 1


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_reject_of_a_new_order_is_a_deny_with_uber_s_code(client, uber):
    seed(uber, fixture("order_docs_usd.json"))
    send(client, event())
    deliver_all()

    decide(client, Order.objects.get(), "reject", {"reason": "TOO_BUSY"})
    deliver_all()

    [deny] = uber.requests("deny")
    assert json.loads(deny["body"]) == {"reason": {"explanation": "TOO_BUSY", "code": "CAPACITY"}}
    assert uber.control("orders")["orders"][ORDER_ID]["state"] == "DENIED"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_late_acceptance_of_an_order_uber_cancelled_is_a_dead_letter_and_after_the_cancel_event_409(client, uber):
    seed(uber, fixture("order_docs_usd.json"))
    send(client, event())
    deliver_all()
    order = Order.objects.get()
    uber.script("accept", [{"status": 409, "body": {"code": "invalid_state", "message": "order was cancelled"}}])

    decide(client, order, "accept")
    deliver_all()

    accept = OutboxMessage.objects.get(destination__name="ubereats", event_type="order.accept")
    assert (accept.status, accept.attempts) == (OutboxMessage.Status.DEAD_LETTER, 1)

    other = fixture("order_docs_usd.json")
    other["id"], other["current_state"] = "cancelled-by-uber", "CANCELED"
    seed(uber, other)
    send(client, event("cancel", order_id="cancelled-by-uber"))
    deliver_all()
    late = Order.objects.get(external_order_id="cancelled-by-uber")
    answer = decide(client, late, "accept")
    assert (late.status, answer.status_code, answer.json()["error"]["code"]) == ("CANCELLED", 409, "INVALID_TRANSITION")


def decide(client, order: Order, action: str, body: dict | None = None):
    return client.post(f"/api/orders/{order.id}/{action}", data=json.dumps(body or {}), content_type="application/json",
                       HTTP_X_AUTH=settings.BACKEND_CALLBACK_KEY)

