"""Each fixture transformed and checked field by field (adapters are pure: no database)."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from providers.adapters import careem, talabat
from providers.adapters.base import AdapterErrors, Context

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str):
    return json.loads((FIXTURES / name).read_text(), parse_float=Decimal)


def test_careem_order_created_in_jod_with_nested_options():
    event = careem.parse(load("careem/order_created_jod.json"), Context(branch_currency="JOD"))

    assert (event.kind, event.external_order_id, event.branch_id, event.dedupe_key) == (
        "order_created", "62504546", "loc_amman_abdoun", "62504546:created")
    order = event.order
    assert (order["currency"], order["currencyExponent"], order["placedAt"]) == ("JOD", 3, "2025-05-01T12:30:29+00:00")
    assert order["customer"]["name"] == "Rami K." and order["customer"]["phone"] == "962791234567"
    assert order["customer"]["address"]["city"] == "Amman"
    shawarma, pepsi = order["items"]
    assert (shawarma["externalId"], shawarma["quantity"], shawarma["unitPriceMinor"], shawarma["totalMinor"]) == (
        "itm_shawarma_chicken", 2, 2500, 5500)
    assert shawarma["notes"] == "extra garlic"
    assert shawarma["modifiers"] == [{"externalId": "opt_cheese", "productId": None, "name": "opt_cheese", "quantity": 1,
                                      "totalMinor": 250, "modifiers": []}]
    assert (pepsi["unitPriceMinor"], pepsi["totalMinor"]) == (750, 750)
    assert order["totals"] == {"subtotalMinor": 6250, "taxMinor": 0, "deliveryFeeMinor": 1000, "serviceFeeMinor": 0,
                               "discountMinor": 0, "totalMinor": 7250}
    assert order["payment"] == {"method": "cash", "paid": False, "collectMinor": 7250}
    assert (order["notes"], order["warnings"]) == ("No onions please", [])


def test_careem_captain_delivery_has_a_blank_customer_deep_options_and_a_totals_warning():
    event = careem.parse(load("careem/order_created_captain_kwd.json"), Context(branch_currency="KWD"))

    order = event.order
    assert order["customer"] == {"name": None, "phone": None, "address": None}
    assert order["currency"] == "KWD" and order["currencyExponent"] == 3
    combo = order["items"][0]
    fries = combo["modifiers"][0]
    assert (fries["externalId"], fries["totalMinor"]) == ("opt_fries", 500)
    assert fries["modifiers"][0]["externalId"] == "opt_cheese_sauce" and fries["modifiers"][0]["totalMinor"] == 125
    assert order["totals"] == {"subtotalMinor": 3425, "taxMinor": 0, "deliveryFeeMinor": 500, "serviceFeeMinor": 50,
                               "discountMinor": 350, "totalMinor": 3700}
    assert order["payment"] == {"method": "card", "paid": True, "collectMinor": 0}
    assert len(order["warnings"]) == 1 and "3625" in order["warnings"][0] and "3700" in order["warnings"][0]


def test_careem_simple_form_uses_the_default_currency():
    event = careem.parse(load("careem/simple_form.json"), Context(default_currency="JOD"))

    order = event.order
    assert (event.external_order_id, order["currency"], order["branchId"]) == ("TEST123", "JOD", "")
    assert order["items"] == [{"externalId": "Burger", "productId": None, "name": "Burger", "quantity": 1,
                               "unitPriceMinor": 10000, "totalMinor": 10000, "notes": None, "modifiers": []}]
    assert order["totals"]["totalMinor"] == 10000 and order["customer"]["phone"] == "0791234567"


def test_careem_status_updates_map_to_the_lifecycle():
    event = careem.parse(load("careem/status_cancelled.json"), Context())

    assert (event.kind, event.external_order_id, event.status, event.dedupe_key) == (
        "status_update", "62504546", "CANCELLED", "62504546:status:cancelled")
    for provider_status, status in [("accepted", "ACCEPTED"), ("ready", "READY"), ("trip_started", "PICKED_UP"),
                                    ("trip_ended", "DELIVERED"), ("driver_here", "")]:
        payload = {"event_type": "ORDER_STATUS_UPDATED", "details": {"id": 1, "status": provider_status}}
        assert careem.parse(payload, Context()).status == status


def test_careem_catalog_events_are_acknowledged_without_an_order():
    event = careem.parse({"event_type": "CATALOG_STATUS_UPDATED", "details": {"catalog_id": "c-1", "status": "done"}}, Context())

    assert (event.kind, event.order) == ("ignored", None)


def test_every_careem_problem_is_reported_at_once():
    payload = load("careem/order_created_jod.json")
    payload["details"]["items"][0]["unit_price"] = Decimal("2.5001")
    payload["details"]["items"][1]["quantity"] = 0
    del payload["details"]["price"]["total_taxable_price"]

    with pytest.raises(AdapterErrors) as raised:
        careem.parse(payload, Context(branch_currency="JOD"))

    fields = {error["field"] for error in raised.value.errors}
    assert fields == {"details.items[0].unit_price", "details.items[1].quantity", "details.price.total_taxable_price"}
    assert "more decimals than JOD allows" in next(e["message"] for e in raised.value.errors
                                                   if e["field"] == "details.items[0].unit_price")


def test_two_decimals_are_enough_for_jod_but_three_are_too_many_for_usd():
    payload = load("careem/simple_form.json")
    payload["items"][0]["price"], payload["total_amount"] = Decimal("10.125"), Decimal("10.125")

    assert careem.parse(payload, Context(default_currency="JOD")).order["totals"]["totalMinor"] == 10125
    with pytest.raises(AdapterErrors):
        careem.parse(payload, Context(default_currency="USD"))


def test_talabat_rider_dispatch_in_kwd():
    event = talabat.parse_dispatch(load("talabat/dispatch_rider_kwd.json"), Context())

    order = event.order
    assert (event.external_order_id, event.branch_id, event.dedupe_key) == (
        "kw7f-q2n8", "kw-684213", "5f373562-591a-4db9-8609-7eec7880f28d:created")
    assert (order["currency"], order["expedition"], order["customer"]) == (
        "KWD", "rider", {"name": "Fatima A.", "phone": "+96550000000", "address": None})
    shawarma, pepsi = order["items"]
    assert (shawarma["quantity"], shawarma["unitPriceMinor"], shawarma["totalMinor"], shawarma["notes"]) == (2, 1000, 2000, "no pickles")
    assert shawarma["modifiers"] == [{"externalId": "plat-t17", "productId": None, "mappingKeys": ["EXTRA-CHEESE", "plat-t17"],
                                      "name": "Extra cheese", "quantity": 1, "totalMinor": 250, "modifiers": []}]
    assert pepsi["totalMinor"] == 500
    assert order["totals"] == {"subtotalMinor": 2750, "taxMinor": 0, "deliveryFeeMinor": 500, "serviceFeeMinor": 0,
                               "discountMinor": 0, "totalMinor": 3250}
    assert order["payment"] == {"method": "paid", "paid": True, "collectMinor": 0}
    assert order["notes"] == "Please ring the bell" and order["warnings"] == []


def test_talabat_pickup_in_aed_with_topping_children():
    event = talabat.parse_dispatch(load("talabat/dispatch_pickup_aed.json"), Context(branch_id="ae-5511"))

    order = event.order
    assert (order["currency"], order["currencyExponent"], order["expedition"]) == ("AED", 2, "pickup")
    crust = order["items"][0]["modifiers"][0]
    assert (crust["totalMinor"], crust["modifiers"][0]["name"], crust["modifiers"][0]["totalMinor"]) == (
        400, "Extra cheese in crust", 250)
    assert order["totals"]["subtotalMinor"] == 3150 and order["totals"]["taxMinor"] == 150
    assert order["totals"]["totalMinor"] == 3150 and order["warnings"] == []
    assert order["payment"] == {"method": "cash", "paid": False, "collectMinor": 3150}


def test_talabat_currency_symbol_that_is_not_iso_falls_back_to_the_branch():
    payload = load("talabat/dispatch_rider_kwd.json")
    payload["localInfo"]["currencySymbol"] = "د.ك"

    assert talabat.parse_dispatch(payload, Context(branch_currency="BHD")).order["currency"] == "BHD"


HUB_ORDER_ID = "5d0f3b0e-8c41-4c59-9a8e-0f0c1b6a2d11"


def test_talabat_status():
    event = talabat.parse_status(load("talabat/status_picked_up.json"),
                                 Context(branch_id="kw-684213", remote_order_id=HUB_ORDER_ID))

    assert (event.kind, event.status, event.hub_order_id) == ("status_update", "PICKED_UP", HUB_ORDER_ID)
    assert talabat.parse_status({"status": "COURIER_ARRIVED_AT_VENDOR"}, Context(remote_order_id=HUB_ORDER_ID)).status == ""


def test_talabat_status_for_an_order_id_that_is_not_the_hubs_is_a_field_error():
    with pytest.raises(AdapterErrors) as refused:
        talabat.parse_status({"status": "ORDER_PICKED_UP"}, Context(remote_order_id="not-a-uuid"))

    assert refused.value.errors == [{"field": "remoteOrderId",
                                     "message": "must be the hub order id (a UUID) answered to the dispatch"}]
