"""Locations (SPEC §7c): the backend registers its sites and their branches; orders carry the site's id."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hub.json_strategies import dumps, mutated
from hub.signing import hex_hmac
from providers.config import intake_settings
from providers.models import Branch, Location, Order
from providers.tests.factories import BranchFactory, ProviderFactory
from webhooks.tests.factories import DestinationFactory

pytestmark = pytest.mark.django_db
AUTH = {"X-AUTH": settings.BACKEND_CALLBACK_KEY}
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def register(client, location_id: str, body, headers=AUTH):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.put(f"/api/locations/{location_id}", data=raw, content_type="application/json", headers=headers)


@pytest.fixture
def branches(db):
    talabat, deliveroo = ProviderFactory(name="talabat"), ProviderFactory(name="deliveroo")
    return (BranchFactory(provider=talabat, external_id="kw-684213"),
            BranchFactory(provider=deliveroo, external_id="kw-salmiya-07"),
            BranchFactory(provider=deliveroo, external_id="kw-hawalli-02"))


def test_a_site_is_created_then_updated_with_exactly_the_branches_it_lists(client, branches):
    body = {"name": "Salmiya", "branches": [{"provider": "talabat", "externalId": "kw-684213"},
                                            {"provider": "deliveroo", "externalId": "kw-salmiya-07"}]}

    created = register(client, "site-1", body)
    updated = register(client, "site-1", {"name": "Salmiya 2", "branches": [
        {"provider": "deliveroo", "externalId": "kw-hawalli-02"}]})

    assert created.status_code == 201 and created.json()["branches"] == [
        {"provider": "deliveroo", "externalId": "kw-salmiya-07"}, {"provider": "talabat", "externalId": "kw-684213"}]
    assert updated.status_code == 200 and updated.json() == {
        "id": "site-1", "name": "Salmiya 2", "branches": [{"provider": "deliveroo", "externalId": "kw-hawalli-02"}]}
    assert sorted(Branch.objects.filter(location_id="site-1").values_list("external_id", flat=True)) == ["kw-hawalli-02"]
    assert Branch.objects.filter(location__isnull=True).count() == 2


def test_a_branch_listed_by_another_site_moves_to_it(client, branches):
    register(client, "a", {"branches": [{"provider": "talabat", "externalId": "kw-684213"}]})
    register(client, "b", {"branches": [{"provider": "talabat", "externalId": "kw-684213"}]})

    assert Branch.objects.get(external_id="kw-684213").location_id == "b"
    assert list(Location.objects.get(id="a").branches.all()) == []


def test_an_unknown_branch_or_a_provider_named_twice_is_422_with_every_problem_and_changes_nothing(client, branches):
    answer = register(client, "site-1", {"name": "x", "branches": [
        {"provider": "deliveroo", "externalId": "kw-salmiya-07"},
        {"provider": "deliveroo", "externalId": "kw-hawalli-02"},
        {"provider": "careem", "externalId": "nowhere"}]})

    assert answer.status_code == 422 and answer.json()["error"]["code"] == "INVALID_LOCATION"
    assert set(answer.json()["error"]["details"]) == {"branches[0]", "branches[1]", "branches[2]"}
    assert not Location.objects.exists() and not Branch.objects.filter(location__isnull=False).exists()


@pytest.mark.parametrize("headers", [{}, {"X-AUTH": "wrong"}, {"X-AUTH": settings.BACKEND_CALLBACK_KEY + "x"}])
def test_the_backend_key_is_required(client, branches, headers):
    assert register(client, "site-1", {"name": "x"}, headers=headers).status_code == 401
    assert not Location.objects.exists()


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_body_is_200_201_400_or_422_never_a_500(client, branches, data):
    template = {"name": "Salmiya", "branches": [{"provider": "talabat", "externalId": "kw-684213"}]}
    body = dumps(data.draw(mutated(template)))

    answer = register(client, "site-p", body)

    assert answer.status_code in {200, 201, 400, 422}, answer.content[:300]


def test_orders_of_a_linked_branch_carry_the_site_and_others_null(client, branches):
    DestinationFactory(name="backend", url="http://127.0.0.1:9", enabled=False)
    register(client, "salmiya", {"branches": [{"provider": "deliveroo", "externalId": "kw-salmiya-07"}]})
    deliveroo = (FIXTURES / "deliveroo/order_new_kw_restaurant_delivery.json").read_bytes()
    other = json.loads(deliveroo)
    other["body"]["order"].update(id="kw:other", location_id="kw-hawalli-02")
    for body in (deliveroo, json.dumps(other).encode()):
        guid = "6f1c2d3e-0000-4000-8000-000000000001"
        signature = hex_hmac(secret=intake_settings("deliveroo").secret, message=guid.encode() + b" " + body)
        answer = client.post("/api/webhooks/deliveroo", data=body, content_type="application/json",
                             headers={"X-Deliveroo-Sequence-Guid": guid, "X-Deliveroo-Hmac-Sha256": signature})
        assert answer.status_code == 200

    located = {order.branch_id: order.data["locationId"] for order in Order.objects.all()}
    assert located == {"kw-salmiya-07": "salmiya", "kw-hawalli-02": None}


def test_setup_providers_demo_makes_the_demo_site_once(db):
    call_command("setup_providers", "--demo", stdout=open("/dev/null", "w"))
    call_command("setup_providers", "--demo", stdout=open("/dev/null", "w"))

    location = Location.objects.get()
    assert sorted(location.branches.values_list("provider__name", flat=True)) == [
        "careem", "deliveroo", "talabat", "ubereats"]


def test_during_a_rotation_both_backend_callback_keys_are_accepted_and_no_other(client, settings):
    settings.BACKEND_CALLBACK_KEY = "old-backend-callback-key, new-backend-callback-key"

    answers = [client.get("/api/locations/nowhere/sync", headers={"X-AUTH": key}).status_code
               for key in ("old-backend-callback-key", "new-backend-callback-key", "other", "",
                           "old-backend-callback-key, new-backend-callback-key")]

    assert answers == [404, 404, 401, 401, 401]
