"""Item availability and store status (SPEC §7c): deltas to every provider within its limits, never a
replace-all; items and stores come back by themselves when their time comes; on the real fakes."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hub.json_strategies import dumps, mutated
from hub.testing import wait_until
from providers.adapters import ADAPTERS
from providers.adapters.base import ItemChange
from providers.availability import availability_restore, store_status_reopen
from providers.models import ItemAvailability, Location, MenuSync, StoreStatus
from providers.tests.factories import BranchFactory, ProviderFactory
from webhooks.models import OutboxMessage
from webhooks.outbox import outbox_deliver

pytestmark = pytest.mark.django_db
AUTH = {"X-AUTH": settings.BACKEND_CALLBACK_KEY}
DEMO = json.loads((Path(__file__).resolve().parent / "fixtures/menus/demo_menu.json").read_text())
STORE = "c7f1dc2f-fabe-4997-845c-cad26fdcb894"
BRANCHES = (("careem", "loc-salmiya"), ("talabat", "kw-684213"), ("deliveroo", "kw-salmiya-07"), ("ubereats", STORE))


def later(**delta) -> str:
    return (timezone.now() + timedelta(**delta)).isoformat()


def post_availability(client, body, location: str = "salmiya"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(f"/api/locations/{location}/availability", data=raw, content_type="application/json",
                       headers=AUTH)


def put_status(client, body, location: str = "salmiya"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.put(f"/api/locations/{location}/status", data=raw, content_type="application/json", headers=AUTH)


@pytest.fixture
def site(db, client):
    location = Location.objects.create(id="salmiya", name="Shawarma X - Salmiya")
    for provider, branch in BRANCHES:
        BranchFactory(provider=ProviderFactory(name=provider), external_id=branch, location=location)
    assert client.put("/api/locations/salmiya/menu", data=json.dumps(DEMO), content_type="application/json",
                      headers=AUTH).status_code == 202
    return location


def messages(event_type: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(event_type=event_type).order_by("id"))


# --- the API -------------------------------------------------------------------------------------------------

def test_a_change_is_recorded_and_queued_once_per_provider(client, site):
    answer = post_availability(client, {"items": [{"id": "FRIES", "available": False, "until": later(hours=2)},
                                                  {"id": "SPICY", "available": False}]})

    assert answer.status_code == 202 and answer.json() == {"locationId": "salmiya", "items": 2, "providers": 4}
    assert {(a.item_id, a.available) for a in ItemAvailability.objects.all()} == {("FRIES", False), ("SPICY", False)}
    queued = messages("menu.availability")
    assert sorted(m.destination.name for m in queued) == ["careem", "deliveroo", "talabat", "ubereats"]
    items = queued[0].payload["availability"]["items"]
    assert [(i["id"], i["option"]) for i in items] == [("FRIES", False), ("SPICY", True)]


def test_items_not_on_the_menu_and_bad_bodies_are_refused_with_every_problem(client, site):
    unknown = post_availability(client, {"items": [{"id": "PIZZA", "available": False}]})
    bad = post_availability(client, {"items": [{"id": "FRIES", "available": "no"},
                                               {"id": "FRIES", "available": True, "until": later(hours=1)},
                                               {"id": "FRIES", "available": False, "until": "yesterday"}]})

    assert unknown.status_code == 422 and unknown.json()["error"]["details"]["unknownItems"] == ["PIZZA"]
    assert bad.status_code == 400 and set(bad.json()["error"]["details"]) == {"items[0]", "items[1]", "items[2]"}
    assert post_availability(client, {"items": []}).status_code == 400
    assert post_availability(client, {"items": [{"id": "FRIES", "available": False}]}, location="nowhere").status_code == 404
    assert not messages("menu.availability")


def test_a_status_needs_its_end_to_pause_and_is_queued_to_every_provider(client, site):
    assert put_status(client, {"status": "paused"}).status_code == 400
    assert put_status(client, {"status": "open", "until": later(hours=1)}).status_code == 400
    assert put_status(client, {"status": "sleeping"}).status_code == 400

    answer = put_status(client, {"status": "paused", "until": later(minutes=30)})

    assert answer.status_code == 202 and answer.json()["providers"] == 4
    assert StoreStatus.objects.get().status == "paused" and len(messages("store.status")) == 4


@hypothesis_settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_availability_or_status_body_is_a_documented_answer(client, site, data):
    availability = dumps(data.draw(mutated({"items": [{"id": "FRIES", "available": False, "until": None}]})))
    status = dumps(data.draw(mutated({"status": "closed", "until": None})))

    assert post_availability(client, availability).status_code in {202, 400, 422}
    assert put_status(client, status).status_code in {202, 400}


# --- each provider's calls -----------------------------------------------------------------------------------

def test_careem_takes_at_most_40_items_a_call_and_talabat_one_call_per_kind_and_direction():
    changes = [ItemChange(f"item-{n}", available=n % 2 == 0) for n in range(45)]
    careem = ADAPTERS["careem"].availability_calls(changes, "loc-1", {})
    talabat = ADAPTERS["talabat"].availability_calls(
        [ItemChange("FRIES", False), ItemChange("SPICY", False, option=True), ItemChange("HUMMUS", True)], "kw-1", {})

    assert [len(call.body["items"]) for call in careem] == [40, 5] and careem[0].method == "PATCH"
    assert [(c.body["type"], c.body["isAvailable"], c.body["items"]) for c in talabat] == [
        ("ITEM", False, ["FRIES"]), ("ITEM", True, ["HUMMUS"]), ("TOPPING", False, ["SPICY"])]


def held(fakes) -> dict:
    return {name: mock.control("menus") for name, mock in fakes.items()}


def live_everywhere(client) -> bool:
    syncs = client.get("/api/locations/salmiya/sync", headers=AUTH).json()["syncs"]
    return {s["status"] for s in syncs} == {"live"}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_an_item_out_until_a_time_reaches_every_fake_and_comes_back_by_itself(client, site, fakes):
    outbox_deliver()
    wait_until(lambda: live_everywhere(client), timeout=20, what="the menu live everywhere")

    post_availability(client, {"items": [{"id": "FRIES", "available": False, "until": later(hours=2)},
                                         {"id": "SPICY", "available": False}]})
    outbox_deliver()

    state = held(fakes)
    assert state["careem"]["availability"]["loc-salmiya"] == {"FRIES": "inactive", "SPICY": "inactive"}
    assert state["talabat"]["availability"]["shawarma-x/kw-684213"] == {"FRIES": False, "SPICY": False}
    assert state["deliveroo"]["availability"]["kw-salmiya-07"] == {"FRIES": "hidden", "SPICY": "hidden"}
    uber = state["ubereats"]["availability"][STORE]
    assert abs(uber["FRIES"] - (timezone.now() + timedelta(hours=2)).timestamp()) < 60 and uber["SPICY"] > 0
    assert all(m.status == OutboxMessage.Status.DELIVERED for m in messages("menu.availability"))

    ItemAvailability.objects.filter(item_id="FRIES").update(until=timezone.now() - timedelta(seconds=1))
    assert availability_restore() == 1
    outbox_deliver()

    state = held(fakes)
    assert state["careem"]["availability"]["loc-salmiya"]["FRIES"] == "active"
    assert state["talabat"]["availability"]["shawarma-x/kw-684213"]["FRIES"] is True
    assert state["deliveroo"]["availability"]["kw-salmiya-07"]["FRIES"] == "available"
    assert state["ubereats"]["availability"][STORE]["FRIES"] == 0
    assert state["deliveroo"]["availability"]["kw-salmiya-07"]["SPICY"] == "hidden"  # until told


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_deliveroo_gets_no_change_before_its_menu_result(client, site, fakes):
    MenuSync.objects.filter(branch__provider__name="deliveroo").update(state="sent")  # the result not in yet
    OutboxMessage.objects.filter(event_type="menu.publish").delete()

    post_availability(client, {"items": [{"id": "FRIES", "available": False}]})
    outbox_deliver()

    waiting = OutboxMessage.objects.get(event_type="menu.availability", destination__name="deliveroo")
    assert waiting.status == OutboxMessage.Status.PENDING and "not confirmed the menu" in waiting.last_error
    assert fakes["deliveroo"].requests("item_unavailabilities") == []


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_pause_reaches_every_fake_and_the_hub_reopens_when_it_ends(client, site, fakes):
    outbox_deliver()
    wait_until(lambda: live_everywhere(client), timeout=20, what="the menu live everywhere")

    put_status(client, {"status": "paused", "until": later(minutes=30)})
    outbox_deliver()

    status = {name: state["status"] for name, state in held(fakes).items()}
    assert status["careem"]["loc-salmiya"]["status_id"] == 2 and 28 <= status["careem"]["loc-salmiya"]["till_time"] <= 30
    assert status["talabat"]["shawarma-x/kw-684213"]["availabilityState"] == "CLOSED_UNTIL"
    assert status["deliveroo"]["kw-salmiya-07"] == {"status": "CLOSED"}  # no timer at Deliveroo: the hub reopens
    assert status["ubereats"][STORE]["status"] == "PAUSED" and "paused_until" in status["ubereats"][STORE]

    StoreStatus.objects.update(until=timezone.now() - timedelta(seconds=1))
    assert store_status_reopen() == 1
    outbox_deliver()

    status = {name: state["status"] for name, state in held(fakes).items()}
    assert status["careem"]["loc-salmiya"] == {"status_id": 1}
    assert status["talabat"]["shawarma-x/kw-684213"]["availabilityState"] == "OPEN"
    assert status["deliveroo"]["kw-salmiya-07"] == {"status": "OPEN"}
    assert status["ubereats"][STORE] == {"status": "ONLINE"}
    assert StoreStatus.objects.get().status == "open"
    assert all(m.status == OutboxMessage.Status.DELIVERED for m in messages("store.status"))


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_partial_talabat_answer_is_retried_and_an_item_hidden_from_uber_is_not_sent_there(client, site, fakes):
    outbox_deliver()
    wait_until(lambda: live_everywhere(client), timeout=20, what="the menu live everywhere")
    fakes["talabat"].script("item_availability", [{"status": 200, "body": {"status": "Success", "details": [
        {"item": "HUMMUS", "status": "FAILED"}]}}])

    post_availability(client, {"items": [{"id": "HUMMUS", "available": False}]})  # Uber's menu hides HUMMUS
    outbox_deliver()

    talabat = OutboxMessage.objects.get(event_type="menu.availability", destination__name="talabat")
    assert talabat.status == OutboxMessage.Status.PENDING and talabat.last_error.startswith("partial")
    assert fakes["ubereats"].requests("item") == []
    assert OutboxMessage.objects.get(event_type="menu.availability", destination__name="ubereats").status == "DELIVERED"
    OutboxMessage.objects.filter(id=talabat.id).update(next_attempt_at=timezone.now())
    outbox_deliver()
    assert [r["status"] for r in fakes["talabat"].requests("item_availability")] == [200, 204]
