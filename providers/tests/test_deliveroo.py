"""Deliveroo: the GUID-prefixed signature, the full order in every event, the status log as the truth,
and decisions on the real fake (providers-menus.md B.1, B.2; SPEC §7, §7b).

Fixtures: `order_new_hk_captured.json` is the captured order of B.1, verbatim; `order_new_docs_gbp.json` is the
docs sample of the appendix (verbatim up to `fee_breakdown`, where the stored copy ends; the subtotal and items,
with modifiers nested, are ours); `order_new_kw_restaurant_delivery.json` and its two status updates are ours,
in the shape of B.1 with the delivery block the models list.
"""

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hub.json_strategies import dumps, fresh_ids, mutated
from hub.signing import hex_hmac
from providers.adapters import ADAPTERS
from providers.auth import signature_headers
from providers.config import intake_settings
from providers.models import InboundWebhook, Order, OrderEvent
from providers.selectors import undecided_orders
from providers.tests.factories import BranchFactory, ProductMappingFactory, ProviderFactory
from webhooks.models import OutboxMessage
from webhooks.outbox import outbox_deliver
from webhooks.tests.factories import DestinationFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "deliveroo"
URL = "/api/webhooks/deliveroo"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signed(body: bytes) -> dict[str, str]:
    return signature_headers(adapter=ADAPTERS["deliveroo"], secret=intake_settings("deliveroo").secret, body=body)


def send(client, body: bytes | dict, headers: dict[str, str] | None = None):
    body = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(URL, data=body, content_type="application/json",
                       headers=signed(body) if headers is None else headers)


@pytest.fixture(autouse=True)
def deliveroo(db, settings):
    settings.WEBHOOK_RATE_LIMIT = 10**6
    provider = ProviderFactory(name="deliveroo")
    for external_id, currency in (("1000", "HKD"), ("348502bd-708f-4977-a02c-600c5419e2b7", "GBP"),
                                  ("kw-salmiya-07", "KWD")):
        BranchFactory(provider=provider, external_id=external_id, currency=currency)
    DestinationFactory(name="backend", url="http://127.0.0.1:9", enabled=False)  # messages are counted, not sent
    return provider


def backend_messages(event_type: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(destination__name="backend", event_type=event_type).order_by("id"))


# --- the signature ---------------------------------------------------------------------------------

def test_the_signature_covers_the_sequence_guid_a_space_and_the_raw_body(client):
    body, guid = raw("order_new_hk_captured.json"), str(uuid.uuid4())
    secret = intake_settings("deliveroo").secret
    good = hex_hmac(secret=secret, message=guid.encode() + b" " + body)

    assert send(client, body, {"X-Deliveroo-Sequence-Guid": guid, "X-Deliveroo-Hmac-Sha256": good}).status_code == 200
    refused = [
        {"X-Deliveroo-Sequence-Guid": guid, "X-Deliveroo-Hmac-Sha256": hex_hmac(secret=secret, message=body)},
        {"X-Deliveroo-Sequence-Guid": str(uuid.uuid4()), "X-Deliveroo-Hmac-Sha256": good},
        {"X-Deliveroo-Sequence-Guid": guid,  # the legacy new_order webhook's " \n " separator
         "X-Deliveroo-Hmac-Sha256": hex_hmac(secret=secret, message=guid.encode() + b" \n " + body)},
        {"X-Deliveroo-Sequence-Guid": guid, "X-Deliveroo-Hmac-Sha256": good.upper()[:-1]},
        {"X-Deliveroo-Hmac-Sha256": good},
        {},
    ]
    for headers in refused:
        answer = send(client, body, headers)
        assert (answer.status_code, answer.json()["error"]["code"]) == (401, "UNAUTHORIZED"), headers
    assert Order.objects.count() == 1
    assert InboundWebhook.objects.filter(outcome="unauthorized").count() == len(refused)


# --- the order ---------------------------------------------------------------------------------------

def test_the_captured_hk_order_becomes_an_internal_order_in_minor_units(client):
    ProductMappingFactory(provider__name="deliveroo", external_item_id="000945402-plu", product_id="banana-1")

    answer = send(client, raw("order_new_hk_captured.json"))

    assert answer.status_code == 200 and answer.json()["status"] == "processed"
    order = Order.objects.get()
    data = order.data
    assert (order.external_order_id, order.branch_id, order.currency, order.total_minor) == (
        "hk:401e92a9-b75e-464f-9c83-182b873eecf1", "1000", "HKD", 1000)
    assert data["currencyExponent"] == 2 and data["customer"] == {"name": "HK", "phone": "852XXXXXXXX", "address": None}
    assert data["items"] == [{"externalId": "000945402-plu", "productId": "banana-1", "name": "菲律賓>單隻超甜香蕉",
                              "quantity": 1, "unitPriceMinor": 1000, "totalMinor": 1000, "notes": None, "modifiers": []}]
    assert data["totals"] == {"subtotalMinor": 1000, "taxMinor": 0, "deliveryFeeMinor": 0, "serviceFeeMinor": 0,
                              "discountMinor": 0, "totalMinor": 1000}
    assert data["payment"] == {"method": "online", "paid": True, "collectMinor": 0}
    assert data["notes"] == "NO CUTLERY / 不需要餐具" and data["warnings"] == []
    assert order.placed_at.isoformat() == "2024-12-10T09:14:35+00:00"
    assert order.deadline_at == order.placed_at + timedelta(minutes=10)  # Hong Kong: 10 minutes
    [created] = backend_messages("order.created")
    assert created.payload["externalOrderId"] == order.external_order_id


def test_the_docs_order_nests_modifiers_and_warns_of_amounts_in_another_currency(client):
    assert send(client, raw("order_new_docs_gbp.json")).status_code == 200

    data = Order.objects.get().data
    burger = data["items"][0]
    assert (burger["externalId"], burger["quantity"], burger["unitPriceMinor"], burger["totalMinor"]) == (
        "BURGER-01", 2, 995, 1990)
    assert burger["modifiers"] == [{
        "externalId": "EXTRA-CHEESE", "productId": None, "name": "Extra cheese", "quantity": 1, "totalMinor": 100,
        "modifiers": [{"externalId": "", "productId": None, "name": "Smoked", "quantity": 1, "totalMinor": 0,
                       "modifiers": []}]}]
    assert data["totals"] == {"subtotalMinor": 2390, "taxMinor": 0, "deliveryFeeMinor": 0, "serviceFeeMinor": 10,
                              "discountMinor": 630, "totalMinor": 1770}
    assert "amounts in EUR besides the order's GBP were not added up" in data["warnings"]
    assert data["notes"] == "No pickles please. / NO CUTLERY"


def test_a_kuwaiti_restaurant_delivered_cash_order_has_three_decimals_an_address_and_seven_minutes(client):
    assert send(client, raw("order_new_kw_restaurant_delivery.json")).status_code == 200

    order = Order.objects.get()
    data = order.data
    assert (order.currency, data["currencyExponent"], order.total_minor) == ("KWD", 3, 3750)  # 3.750 KWD
    assert data["totals"] == {"subtotalMinor": 3500, "taxMinor": 0, "deliveryFeeMinor": 500, "serviceFeeMinor": 100,
                              "discountMinor": 350, "totalMinor": 3750}
    assert data["payment"] == {"method": "cash", "paid": False, "collectMinor": 3750}
    assert data["customer"]["address"]["city"] == "Salmiya" and data["items"][0]["quantity"] == 2
    assert data["items"][0]["modifiers"][0]["totalMinor"] == 250
    assert order.deadline_at == order.placed_at + timedelta(minutes=7)
    assert data["warnings"] == ["unmapped item 'SHW-CHK-L' (Chicken shawarma (large)) passed through",
                                "unmapped item 'GARLIC' (Garlic sauce) passed through"]  # totals add up


def test_an_order_placed_six_minutes_ago_in_the_uae_is_near_its_deadline(client):
    payload = fixture("order_new_kw_restaurant_delivery.json")
    order = payload["body"]["order"]
    order["id"], order["asap"] = "ae:0c1d2e3f-aaaa-4c6d-8e9f-0a1b2c3d4e5f", True
    order["status_log"] = [{"at": (timezone.now() - timedelta(minutes=6)).isoformat(), "status": "placed"}]

    assert send(client, payload).status_code == 200

    [stored] = undecided_orders(near_deadline=True)
    assert stored.deadline_at == stored.placed_at + timedelta(minutes=7)


def test_a_scheduled_order_has_no_acceptance_deadline(client):
    payload = fixture("order_new_docs_gbp.json")
    payload["body"]["order"]["asap"] = False

    assert send(client, payload).status_code == 200

    assert Order.objects.get().deadline_at is None


def test_invalid_orders_get_every_error_at_once(client):
    payload = fixture("order_new_kw_restaurant_delivery.json")
    order = payload["body"]["order"]
    order["items"][0]["total_price"]["fractional"] = 12.5
    order["subtotal"] = {"currency_code": "KWD", "fractional": "abc"}
    del order["total_price"]
    order["status_log"] = []

    answer = send(client, payload)

    assert answer.status_code == 422
    fields = {error["field"] for error in answer.json()["errors"]}
    assert {"body.order.items[0].total_price.fractional", "body.order.subtotal.fractional", "body.order.total_price",
            "body.order.status_log"} <= fields
    assert Order.objects.count() == 0


@pytest.mark.parametrize("order_id", ["..", ".", "ord\n1"])
def test_an_order_id_that_would_change_the_acceptance_url_is_refused(client, order_id):
    """U1: an order `..` sent its acceptance to PATCH /order/v1/."""
    payload = fixture("order_new_kw_restaurant_delivery.json")
    payload["body"]["order"]["id"] = order_id

    answer = send(client, payload)

    assert answer.status_code == 422
    assert "body.order.id" in {error["field"] for error in answer.json()["errors"]}
    assert Order.objects.count() == 0


# --- duplicates and order of events -------------------------------------------------------------------

def test_a_retried_event_is_a_duplicate_that_creates_and_forwards_nothing(client):
    first = send(client, raw("order_new_kw_restaurant_delivery.json"))
    again = send(client, raw("order_new_kw_restaurant_delivery.json"))  # a new sequence GUID, the same event
    update = send(client, raw("status_update_kw_accepted.json"))
    update_again = send(client, raw("status_update_kw_accepted.json"))

    assert again.json()["duplicate"] is True and again.json()["webhookId"] == first.json()["webhookId"]
    assert update_again.json()["duplicate"] is True and update_again.json()["webhookId"] == update.json()["webhookId"]
    assert Order.objects.get().status == "ACCEPTED"
    assert (len(backend_messages("order.created")), len(backend_messages("order.status_changed"))) == (1, 1)


def test_a_status_update_before_its_order_new_creates_the_order_from_the_log(client):
    assert send(client, raw("status_update_kw_accepted.json")).status_code == 200
    late_new = send(client, raw("order_new_kw_restaurant_delivery.json"))

    order = Order.objects.get()
    assert order.status == "ACCEPTED" and order.total_minor == 3750
    assert late_new.status_code == 200 and late_new.json()["duplicate"] is True
    assert [m.payload.get("status") for m in backend_messages("order.created")] == ["NEW"]
    assert [m.payload["status"] for m in backend_messages("order.status_changed")] == ["ACCEPTED"]


def test_an_older_status_arriving_after_a_newer_one_is_kept_but_not_applied(client):
    send(client, raw("order_new_kw_restaurant_delivery.json"))
    send(client, raw("status_update_kw_canceled.json"))
    late = send(client, raw("status_update_kw_accepted.json"))

    assert late.status_code == 200
    order = Order.objects.get()
    assert order.status == "CANCELLED"
    events = list(OrderEvent.objects.filter(order=order).order_by("id").values_list("provider_status", "applied"))
    assert events == [("placed", True), ("canceled", True), ("accepted", False)]


def test_the_newest_log_entry_decides_whatever_the_order_of_the_list(client):
    payload = fixture("status_update_kw_canceled.json")
    payload["body"]["order"]["status_log"].reverse()
    send(client, raw("order_new_kw_restaurant_delivery.json"))

    send(client, payload)

    assert Order.objects.get().status == "CANCELLED"


# --- any JSON ----------------------------------------------------------------------------------------

TEMPLATES = [fixture(name) for name in ("order_new_hk_captured.json", "order_new_docs_gbp.json",
                                         "order_new_kw_restaurant_delivery.json", "status_update_kw_accepted.json")]


@hypothesis_settings(max_examples=200, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), template=st.sampled_from(TEMPLATES))
def test_any_json_with_a_valid_signature_is_200_or_422_with_one_audit_row(client, data, template):
    payload = data.draw(mutated(fresh_ids(template, "body.order.id")))
    if isinstance(payload, dict) and isinstance(payload.get("body"), dict) and isinstance(payload["body"].get("order"), dict):
        payload["body"]["order"]["location_id"] = template["body"]["order"]["location_id"]  # unknown branches: 401
    before = InboundWebhook.objects.count()

    answer = send(client, dumps(payload))

    assert answer.status_code in {200, 422}, answer.content[:500]
    body = answer.json()
    if answer.status_code == 422:
        assert body["success"] is False and all(set(e) == {"field", "message"} for e in body["errors"])
    else:
        assert body["success"] is True and body["status"] == "processed"
    assert InboundWebhook.objects.count() == before + 1


# --- decisions on the real fake ----------------------------------------------------------------------

def decide(client, order: Order, action: str, body: dict | None = None):
    return client.post(f"/api/orders/{order.id}/{action}", data=json.dumps(body or {}), content_type="application/json",
                       HTTP_X_AUTH=settings.BACKEND_CALLBACK_KEY)


def deliver_all() -> None:
    while outbox_deliver():
        pass


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_accept_patches_the_order_and_reports_it_synced_then_ready_is_the_prep_stage(client, deliveroo_fake):
    send(client, raw("order_new_kw_restaurant_delivery.json"))
    order = Order.objects.get()

    assert decide(client, order, "accept").status_code == 202
    assert decide(client, order, "accept").json()["duplicate"] is True
    deliver_all()
    assert decide(client, order, "ready").status_code == 202
    deliver_all()

    [patch] = deliveroo_fake.requests("order")
    assert (patch["method"], patch["path"], json.loads(patch["body"])) == (
        "PATCH", "/order/v1/orders/kw:7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f", {"status": "accepted"})
    assert patch["headers"]["Authorization"].startswith("Bearer ") and patch["status"] == 204
    [sync] = deliveroo_fake.requests("sync_status")
    assert json.loads(sync["body"])["status"] == "succeeded" and sync["status"] == 204
    [stage] = deliveroo_fake.requests("prep_stage")
    assert json.loads(stage["body"])["stage"] == "ready_for_collection" and stage["status"] == 204
    assert len(deliveroo_fake.requests("token")) == 1
    state = deliveroo_fake.control("orders")["orders"][order.external_order_id]
    assert state["state"] == "accepted" and [h.get("stage") for h in state["history"]][-1] == "ready_for_collection"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_reject_too_busy_reaches_deliveroo_as_busy(client, deliveroo_fake):
    send(client, raw("order_new_hk_captured.json"))
    order = Order.objects.get()

    decide(client, order, "reject", {"reason": "TOO_BUSY", "message": "Friday rush"})
    deliver_all()

    [patch] = deliveroo_fake.requests("order")
    assert json.loads(patch["body"]) == {"status": "rejected", "reject_reason": "busy", "notes": "Friday rush"}
    assert deliveroo_fake.control("orders")["orders"][order.external_order_id]["state"] == "rejected"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_late_acceptance_refused_by_deliveroo_is_a_dead_letter_and_one_after_its_rejection_is_409(
        client, deliveroo_fake):
    send(client, raw("order_new_kw_restaurant_delivery.json"))
    order = Order.objects.get()
    deliveroo_fake.script("order", [{"status": 409, "body": {"message": "order is not placed",
                                                             "currentState": "rejected"}}])

    decide(client, order, "accept")
    deliver_all()

    patch = OutboxMessage.objects.get(destination__name="deliveroo", payload__step=0)
    assert (patch.status, patch.attempts) == (OutboxMessage.Status.DEAD_LETTER, 1)
    assert [r["status"] for r in deliveroo_fake.requests("order")] == [409]

    other = fixture("status_update_kw_canceled.json")
    other["body"]["order"]["id"] = "kw:late-order"
    other["body"]["order"]["status"] = "rejected"
    other["body"]["order"]["status_log"][-1]["status"] = "rejected"  # Deliveroo rejected it: no reaction in time
    send(client, other)
    late = Order.objects.get(external_order_id="kw:late-order")
    answer = decide(client, late, "accept")
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "INVALID_TRANSITION")
    assert not OutboxMessage.objects.filter(destination__name="deliveroo", payload__orderId=str(late.id)).exists()
