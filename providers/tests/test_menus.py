"""Menus (SPEC §7c): the provider-neutral menu checked with every error, kept per version, queued once per
provider branch (a newer version replaces a queued one), rendered in the provider's shape and followed to
its result on the real fakes."""

import copy
import json
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hub.json_strategies import dumps, mutated
from hub.metrics import scrape
from hub.testing import wait_until
from providers.adapters.base import MenuRefused
from providers.adapters.careem import render_catalog as render_careem
from providers.adapters.deliveroo import render_menu as render_deliveroo
from providers.adapters.talabat import render_catalog as render_talabat
from providers.adapters.ubereats import render_menu
from providers.menu_document import MenuErrors, menu_read
from providers.menus import menu_syncs_needing_attention, menu_syncs_time_out, provider_menu
from providers.tests.conftest import results_posted
from providers.models import InboundWebhook, Location, MenuSync, MenuVersion
from providers.tests.factories import BranchFactory, ProviderFactory
from webhooks.models import Destination, OutboxMessage
from webhooks.outbox import outbox_deliver

pytestmark = pytest.mark.django_db
AUTH = {"X-AUTH": settings.BACKEND_CALLBACK_KEY}
DEMO = json.loads((Path(__file__).resolve().parent / "fixtures/menus/demo_menu.json").read_text())
STORE = "c7f1dc2f-fabe-4997-845c-cad26fdcb894"


def put_menu(client, body, location: str = "salmiya", headers=AUTH):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.put(f"/api/locations/{location}/menu", data=raw, content_type="application/json", headers=headers)


@pytest.fixture
def location(db):
    site = Location.objects.create(id="salmiya", name="Shawarma X - Salmiya")
    BranchFactory(provider=ProviderFactory(name="ubereats"), external_id=STORE, location=site)
    BranchFactory(provider=ProviderFactory(name="glovo"), external_id="loc-1", location=site)  # no adapter here
    return site


def menu_messages() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(event_type="menu.publish"))


# --- the document --------------------------------------------------------------------------------------

def test_the_demo_menu_reads_with_every_optional_field_present():
    document = menu_read(DEMO)

    assert document["currency"] == "KWD" and len(document["items"]) == 7
    fries = next(item for item in document["items"] if item["id"] == "FRIES")
    assert fries == {"id": "FRIES", "name": {"en": "Fries", "ar": "بطاطا"}, "description": {}, "price": 500,
                     "plu": "FRIES", "imageUrl": None, "taxRate": "0", "modifierGroupIds": []}


def test_every_problem_is_reported_at_once():
    bad = copy.deepcopy(DEMO)
    bad["items"][1]["id"] = "SHW-CHK-L"  # twice
    bad["items"][2]["price"] = 5.5  # not minor units
    bad["categories"][0]["itemIds"].append("NOPE")
    bad["modifierGroups"][0].update(min=3, max=2)
    bad["menus"][0]["schedules"][0]["end"] = "00:00"
    bad["items"][3]["imageUrl"] = "http://insecure.example.com/x.jpg"
    bad["overrides"].append({"provider": "glovo", "itemId": "FRIES", "price": 1})

    with pytest.raises(MenuErrors) as raised:
        menu_read(bad)

    fields = {error["field"] for error in raised.value.errors}
    assert {"items[0].id", "items[1].id", "items[2].price", "categories[0].itemIds[2]", "modifierGroups[0].min",
            "menus[0].schedules[0].end", "items[3].imageUrl", "overrides[2].provider"} <= fields


ID_PLACES = [("items", 2, "id"), ("items", 2, "plu"), ("categories", 0, "id"), ("modifierGroups", 0, "id"),
             ("menus", 0, "id")]


@pytest.mark.parametrize("place", ID_PLACES)
@pytest.mark.parametrize("tail", ["\n", "\r\n", "\r", " ", "\x00", "\u200f"])
def test_an_id_with_a_trailing_newline_or_space_is_refused_not_published_beside_the_plain_one(place, tail):
    """M1: `$` matched before a final newline, so `FRIES\\n` was a second item beside `FRIES`."""
    table, index, field = place
    bad = copy.deepcopy(DEMO)
    bad[table][index][field] = bad[table][index].get(field, bad[table][index]["id"]) + tail

    with pytest.raises(MenuErrors) as raised:
        menu_read(bad)

    assert f"{table}[{index}].{field}" in {error["field"] for error in raised.value.errors}


@pytest.mark.parametrize("end", ["end", "start"])
@pytest.mark.parametrize("tail", ["\n", " ", "\x00"])
def test_a_schedule_time_with_a_trailing_newline_is_refused(end, tail):
    bad = copy.deepcopy(DEMO)
    bad["menus"][0]["schedules"][0][end] += tail

    with pytest.raises(MenuErrors) as raised:
        menu_read(bad)

    assert f"menus[0].schedules[0].{end}" in {error["field"] for error in raised.value.errors}


def test_a_provider_sees_the_master_with_its_overrides_only():
    document = menu_read(DEMO)

    talabat, uber = provider_menu(document, "talabat"), provider_menu(document, "ubereats")

    assert next(i for i in talabat["items"] if i["id"] == "SHW-CHK-L")["price"] == 1450
    assert next(i for i in uber["items"] if i["id"] == "SHW-CHK-L")["price"] == 1500
    assert "HUMMUS" not in {i["id"] for i in uber["items"]} and "HUMMUS" not in uber["categories"][1]["itemIds"]
    assert "HUMMUS" in {i["id"] for i in talabat["items"]}


def test_uber_gets_options_as_items_with_their_group_price_and_minor_units():
    rendered = render_menu(provider_menu(menu_read(DEMO), "ubereats"))

    garlic = next(item for item in rendered["items"] if item["id"] == "GARLIC")
    assert garlic["price_info"] == {"price": 250, "overrides": [
        {"context_type": "MODIFIER_GROUP", "context_value": "sauces", "price": 250}]}
    assert next(item for item in rendered["items"] if item["id"] == "TAHINI")["price_info"]["overrides"][0]["price"] == 0
    assert rendered["modifier_groups"][0]["quantity_info"] == {"quantity": {"min_permitted": 0, "max_permitted": 1}}
    assert rendered["menus"][0]["service_availability"][0] == {
        "day_of_week": "monday", "time_periods": [{"start_time": "10:00", "end_time": "23:30"}]}
    assert rendered["items"][0]["title"] == {"translations": {"en_us": "Chicken shawarma (large)",
                                                              "ar": "شاورما دجاج كبير"}}


# --- the API ---------------------------------------------------------------------------------------------

def test_a_menu_is_a_version_and_one_queued_sync_per_branch_that_publishes_menus(client, location):
    answer = put_menu(client, DEMO)

    assert answer.status_code == 202
    assert answer.json() == {"menuVersion": 1, "syncs": [{"provider": "glovo", "status": "not_supported"},
                                                         {"provider": "ubereats", "status": "queued"}]}
    [message] = menu_messages()
    assert message.destination.name == "ubereats" and message.payload == {"menuSync": MenuSync.objects.get().id}


def test_the_same_menu_again_is_200_and_sends_nothing(client, location):
    put_menu(client, DEMO)

    again = put_menu(client, DEMO)

    assert again.status_code == 200 and again.json()["menuVersion"] == 1
    assert MenuVersion.objects.count() == 1 and len(menu_messages()) == 1


def test_a_newer_version_replaces_the_queued_one(client, location):
    put_menu(client, DEMO)
    changed = copy.deepcopy(DEMO)
    changed["items"][2]["price"] = 550

    answer = put_menu(client, changed)

    assert answer.status_code == 202 and answer.json()["menuVersion"] == 2
    [sync] = MenuSync.objects.all()
    assert (sync.state, sync.menu_version.version) == ("queued", 2) and len(menu_messages()) == 1


def test_an_invalid_menu_is_422_with_every_error_and_keeps_nothing(client, location):
    answer = put_menu(client, {"currency": "XXX", "items": [{"id": "a/b", "price": -1}], "categories": [], "menus": []})

    assert answer.status_code == 422 and answer.json()["error"]["code"] == "INVALID_MENU"
    assert len(answer.json()["error"]["details"]["errors"]) >= 5
    assert not MenuVersion.objects.exists() and not menu_messages()


def test_an_unknown_location_is_404_and_the_key_is_required(client, location):
    assert put_menu(client, DEMO, location="nowhere").status_code == 404
    assert put_menu(client, DEMO, headers={"X-AUTH": "wrong"}).status_code == 401
    assert client.get("/api/locations/salmiya/sync").status_code == 401


@hypothesis_settings(max_examples=150, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_body_is_200_202_400_or_422_never_a_500(client, location, data):
    answer = put_menu(client, dumps(data.draw(mutated(DEMO))))

    assert answer.status_code in {200, 202, 400, 422}, answer.content[:300]


# --- on the real Uber Eats fake ------------------------------------------------------------------------

def sync_state(client) -> dict:
    answer = client.get("/api/locations/salmiya/sync", headers=AUTH)
    assert answer.status_code == 200
    return next(s for s in answer.json()["syncs"] if s["provider"] == "ubereats")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_menu_is_live_on_uber_in_its_shape_and_an_unchanged_render_is_not_sent_again(client, location, uber):
    put_menu(client, DEMO)
    outbox_deliver()

    [upload] = uber.requests("menus")
    assert (upload["method"], upload["path"], upload["status"]) == ("PUT", f"/v2/eats/stores/{STORE}/menus", 204)
    held = uber.control("menus")["menus"][STORE]
    assert {item["id"] for item in held["items"]} == {"SHW-CHK-L", "SHW-BEEF-L", "FRIES", "GARLIC", "TAHINI", "SPICY"}
    assert sync_state(client) | {"nextAllowedAt": None} == {
        "provider": "ubereats", "branch": STORE, "status": "live", "version": 1, "liveVersion": 1, "errors": [],
        "nextAllowedAt": None}

    talabat_only = copy.deepcopy(DEMO)
    talabat_only["overrides"][0]["price"] = 1400  # Uber's rendering does not change
    assert put_menu(client, talabat_only).status_code == 202
    outbox_deliver()

    assert len(uber.requests("menus")) == 1
    assert sync_state(client)["status"] == "unchanged" and sync_state(client)["version"] == 2


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_menu_uber_refuses_is_failed_with_its_errors_and_a_dead_letter(client, location, uber):
    uber.script("menus", [{"status": 400, "body": {"code": "invalid_menu", "errors": ["item FRIES: bad image"]}}])

    put_menu(client, DEMO)
    outbox_deliver()

    state = sync_state(client)
    assert state["status"] == "failed" and "bad image" in state["errors"][0]["message"]
    assert menu_messages()[0].status == OutboxMessage.Status.DEAD_LETTER


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_uber_down_then_back_gets_the_newest_version_only(client, location, uber):
    uber.script("menus", [{"status": 503}])
    put_menu(client, DEMO)
    outbox_deliver()  # 503: retried later
    newer = copy.deepcopy(DEMO)
    newer["items"][2]["price"] = 600
    put_menu(client, newer)  # replaces the queued sync's version
    OutboxMessage.objects.filter(event_type="menu.publish").update(next_attempt_at="2000-01-01T00:00:00Z")
    Destination.objects.filter(name="ubereats").update(retry_delays=[0])

    outbox_deliver()

    assert [r["status"] for r in uber.requests("menus")] == [503, 204]
    fries = next(i for i in uber.control("menus")["menus"][STORE]["items"] if i["id"] == "FRIES")
    assert fries["price_info"]["price"] == 600
    assert sync_state(client) | {"nextAllowedAt": None} == {
        "provider": "ubereats", "branch": STORE, "status": "live", "version": 2, "liveVersion": 2, "errors": [],
        "nextAllowedAt": None}


# --- Deliveroo: its shape, its asynchronous result, its rate limit ------------------------------------------

def test_deliveroo_gets_options_as_choice_items_groups_as_modifiers_and_menus_as_mealtimes():
    rendered = render_deliveroo(provider_menu(menu_read(DEMO), "deliveroo"), "kw-salmiya-07", "menu")

    items = {item["id"]: item for item in rendered["menu"]["items"]}
    assert (items["SPICY"]["type"], items["SPICY"]["price_info"]) == ("CHOICE", {"price": 100})  # its group price
    assert (items["FRIES"]["type"], items["SHW-CHK-L"]["modifier_ids"]) == ("ITEM", ["sauces"])
    assert rendered["menu"]["modifiers"] == [{"id": "sauces", "name": {"en": "Sauces", "ar": "صلصات"},
                                              "item_ids": ["GARLIC", "TAHINI", "SPICY"], "min_selection": 0,
                                              "max_selection": 1, "repeatable": False}]
    assert rendered["menu"]["mealtimes"][0]["schedule"][0] == {"day_of_week": 0,
                                                               "time_periods": [{"start": "10:00", "end": "23:30"}]}
    assert rendered["site_ids"] == ["kw-salmiya-07"]


@pytest.fixture
def deliveroo_site(db):
    site = Location.objects.create(id="salmiya", name="Shawarma X - Salmiya")
    BranchFactory(provider=ProviderFactory(name="deliveroo"), external_id="kw-salmiya-07", location=site,
                  provider_ids={"brandId": "shawarma-x"})
    return site


@pytest.fixture
def deliveroo(mock_processes, settings, live_server):
    mock = mock_processes("deliveroo")
    settings.DELIVEROO_API_BASE_URL, settings.DELIVEROO_TOKEN_URL = mock.url, f"{mock.url}/oauth2/token"
    cache.delete("provider-token:deliveroo")
    requests.post(f"{mock.url}/__control/callbacks", json={"url": live_server.url}, timeout=5).raise_for_status()
    yield mock
    results_posted(mock)


def deliveroo_state(client) -> dict:
    answer = client.get("/api/locations/salmiya/sync", headers=AUTH)
    return next(s for s in answer.json()["syncs"] if s["provider"] == "deliveroo")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_menu_is_sent_to_deliveroo_then_live_on_its_upload_result(client, deliveroo_site, deliveroo):
    put_menu(client, DEMO)
    outbox_deliver()

    [upload] = deliveroo.requests("menu")
    assert (upload["path"], upload["status"]) == ("/menu/v1/brands/shawarma-x/menus/hub-kw-salmiya-07", 200)
    wait_until(lambda: deliveroo_state(client)["status"] == "live", timeout=15, what="Deliveroo's upload result")
    state = deliveroo_state(client)
    assert (state["version"], state["liveVersion"], state["errors"]) == (1, 1, [])
    assert state["nextAllowedAt"] is not None  # one upload a minute per site
    held = deliveroo.control("menus")["menus"]["shawarma-x/hub-kw-salmiya-07"]
    assert {item["id"] for item in held["menu"]["items"]} == {i["id"] for i in DEMO["items"]}
    assert InboundWebhook.objects.get(dedupe_key__startswith="menu-result:").outcome == "accepted"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_refused_and_a_partial_upload_result_keep_the_providers_errors(client, deliveroo_site, deliveroo):
    requests.post(f"{deliveroo.url}/__control/menu-results", timeout=5, json={"results": [
        {"http_status": 400, "errors": [{"item_id": "FRIES", "message": "image too small"}]}]}).raise_for_status()

    put_menu(client, DEMO)
    outbox_deliver()

    wait_until(lambda: deliveroo_state(client)["status"] == "failed", timeout=15, what="the refusal")
    assert deliveroo_state(client)["errors"] == [{"item": "FRIES", "message": "image too small"}]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_result_that_never_comes_times_out(client, deliveroo_site, deliveroo, settings):
    requests.post(f"{deliveroo.url}/__control/menu-results", json={"results": [{"drop": True}]},
                  timeout=5).raise_for_status()
    put_menu(client, DEMO)
    outbox_deliver()
    assert deliveroo_state(client)["status"] == "sent"
    settings.MENU_RESULT_TIMEOUT_MINUTES = 0

    assert menu_syncs_time_out() == 1

    assert deliveroo_state(client)["status"] == "timed_out"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_second_version_within_the_minute_waits_for_deliveroos_rate_limit(client, deliveroo_site, deliveroo):
    put_menu(client, DEMO)
    outbox_deliver()
    newer = copy.deepcopy(DEMO)
    newer["items"][2]["price"] = 600

    put_menu(client, newer)
    outbox_deliver()

    assert len(deliveroo.requests("menu")) == 1  # never a 429 from Deliveroo
    waiting = MenuSync.objects.get(state="queued")
    message = OutboxMessage.objects.get(payload__menuSync=waiting.id)
    assert "rate limit" in message.last_error and message.status == OutboxMessage.Status.PENDING
    assert 50 < (message.next_attempt_at - timezone.now()).total_seconds() <= 61


# --- Talabat and Careem, and all four at once ---------------------------------------------------------------

def test_talabat_gets_one_typed_map_with_decimal_string_prices_in_the_currencys_decimals():
    rendered = render_talabat(provider_menu(menu_read(DEMO), "talabat"), "kw-684213", "https://hub.example/cb")

    items = rendered["catalog"]["items"]
    assert (rendered["vendors"], rendered["callbackUrl"]) == (["kw-684213"], "https://hub.example/cb")
    assert items["SHW-CHK-L"]["price"] == "1.450"  # Talabat's override of 1.500 KWD
    assert items["SHW-CHK-L"]["toppings"] == {"topping-sauces": {"id": "topping-sauces", "type": "Topping"}}
    assert items["topping-sauces"]["quantity"] == {"minimum": 0, "maximum": 1}
    assert items["topping-sauces"]["products"]["SPICY"] == {"id": "SPICY", "type": "Product", "price": "0.100"}
    assert items["schedule-all-day-1"] == {"id": "schedule-all-day-1", "type": "ScheduleEntry", "startTime": "12:00:00",
                                           "endTime": "23:59:00", "weekDays": ["FRIDAY", "SATURDAY"]}
    assert items["image-SHW-CHK-L"]["url"].startswith("https://")


def test_careem_gets_flat_arrays_with_its_currency_id_and_refuses_a_group_its_rules_forbid():
    rendered = render_careem(provider_menu(menu_read(DEMO), "careem"), "loc-1")

    assert rendered["catalog"]["currency_id"] == 6 and rendered["diff"] is False  # KWD
    assert [o["id"] for o in rendered["options"]] == ["GARLIC", "TAHINI", "SPICY"]
    assert {i["id"] for i in rendered["items"]} == {"SHW-CHK-L", "SHW-BEEF-L", "FRIES", "HUMMUS"}
    assert rendered["groups"][0] | {"name_localized": None} == {
        "id": "sauces", "deleted": False, "name": "Sauces", "name_localized": None, "multi_select": False, "min": 0,
        "max": 1, "priority": 0, "options": ["GARLIC", "TAHINI", "SPICY"]}
    pick_two = copy.deepcopy(DEMO)
    pick_two["modifierGroups"][0]["max"] = 2
    with pytest.raises(MenuRefused) as refused:
        render_careem(menu_read(pick_two), "loc-1")
    assert refused.value.errors[0]["item"] == "sauces"


@pytest.fixture
def all_four(db):
    site = Location.objects.create(id="salmiya", name="Shawarma X - Salmiya")
    for provider, branch in (("careem", "loc-salmiya"), ("talabat", "kw-684213"), ("deliveroo", "kw-salmiya-07"),
                             ("ubereats", STORE)):
        BranchFactory(provider=ProviderFactory(name=provider), external_id=branch, location=site)
    return site


def states(client) -> dict[str, str]:
    return {s["provider"]: s["status"] for s in client.get("/api/locations/salmiya/sync", headers=AUTH).json()["syncs"]}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_demo_menu_is_live_on_all_four_fakes_each_in_its_own_shape(client, all_four, fakes):
    assert put_menu(client, DEMO).status_code == 202
    outbox_deliver()

    wait_until(lambda: set(states(client).values()) == {"live"}, timeout=20, what="every provider live")
    assert len(fakes["careem"].control("menus")["menus"]["shawarma-x/loc-salmiya"]["items"]) == 4
    assert fakes["talabat"].control("menus")["menus"]["shawarma-x/kw-684213"]["items"]["FRIES"]["price"] == "0.500"
    assert "shawarma-x/hub-kw-salmiya-07" in fakes["deliveroo"].control("menus")["menus"]
    assert STORE in fakes["ubereats"].control("menus")["menus"]
    # the three asynchronous results, Talabat's twice (in progress, done)
    assert sorted(InboundWebhook.objects.values_list("provider", "outcome")) == [
        ("careem", "accepted"), ("deliveroo", "accepted"), ("talabat", "accepted"), ("talabat", "accepted")]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_partial_talabat_import_and_a_failed_careem_sync_keep_the_providers_errors(client, all_four, fakes):
    requests.post(f"{fakes['talabat'].url}/__control/menu-results", timeout=5, json={"results": [
        {"status": "done_with_errors", "errors": [{"itemId": "HUMMUS", "message": "image rejected"}]}]})
    requests.post(f"{fakes['careem'].url}/__control/menu-results", timeout=5, json={"results": [
        {"status": "FAILED", "errors": [{"id": "FRIES", "message": "price unit"}]}]})

    put_menu(client, DEMO)
    outbox_deliver()

    wait_until(lambda: states(client)["talabat"] == "partial" and states(client)["careem"] == "failed", timeout=20,
               what="the partial and the failed results")
    syncs = {s["provider"]: s for s in client.get("/api/locations/salmiya/sync", headers=AUTH).json()["syncs"]}
    assert syncs["talabat"]["errors"] == [{"item": "HUMMUS", "message": "image rejected"}]
    assert syncs["careem"]["errors"] == [{"item": "FRIES", "message": "price unit"}]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_menu_careem_cannot_hold_fails_for_careem_only_and_is_never_sent_there(client, all_four, fakes):
    pick_two = copy.deepcopy(DEMO)
    pick_two["modifierGroups"][0]["max"] = 2

    put_menu(client, pick_two)
    outbox_deliver()

    wait_until(lambda: states(client)["talabat"] == "live", timeout=20, what="Talabat live")
    assert states(client)["careem"] == "failed" and fakes["careem"].requests("catalogs") == []
    careem = next(s for s in client.get("/api/locations/salmiya/sync", headers=AUTH).json()["syncs"]
                  if s["provider"] == "careem")
    assert careem["errors"][0]["item"] == "sauces"


# --- operators: the attention figure, the metric, "publish again" -------------------------------------------

def test_a_failed_sync_is_counted_shown_and_published_again_from_the_admin(client, location, admin_user):
    put_menu(client, DEMO)
    sync = MenuSync.objects.get()
    MenuSync.objects.filter(id=sync.id).update(state="failed", errors=[{"item": None, "message": "HTTP 400"}])

    assert menu_syncs_needing_attention() == {("ubereats", "failed"): 1}
    assert 'hub_menu_syncs_needing_attention{provider="ubereats",state="failed"} 1.0' in scrape().decode()

    client.force_login(admin_user)
    listed = client.get("/admin/providers/menusync/?attention=yes")
    assert listed.status_code == 200 and b"ubereats" in listed.content
    answer = client.post("/admin/providers/menusync/", {"action": "publish_again", "_selected_action": [sync.id]})

    assert answer.status_code == 302
    again = MenuSync.objects.get(state="queued")
    assert again.forced and again.menu_version == sync.menu_version and menu_syncs_needing_attention() == {}
    assert len(menu_messages()) == 2
