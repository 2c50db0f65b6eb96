"""Every URL that takes a JSON body, sent hostile numbers in every place a number can stand.

The routes are read from the URL configuration: a new route that takes a body fails
`test_every_route_that_takes_a_body_is_walked` until it is added to BODIES, so none can forget the
bounded number reader (hub.json_input.read_number)."""

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from hub.json_strategies import HOSTILE_NUMBERS
from hub.signing import hex_hmac
from providers.config import intake_settings
from providers.adapters import ADAPTERS
from providers.auth import signature_headers
from providers.models import Branch, Location, Provider
from providers.tests.factories import OrderFactory
from tests import walkers
from tests.walkers import route_names, with_value
from wallet.tests.helpers import signed_headers
from webhooks.tests.factories import DestinationFactory

pytestmark = pytest.mark.django_db
FIXTURES = settings.BASE_DIR / "providers" / "tests" / "fixtures"
MARK = "__hostile__"
CPU_SECONDS_PER_REQUEST = 1.0


@dataclass(frozen=True)
class Route:
    method: str
    path: Callable[[], str]
    body: Callable[[], Any]
    headers: Callable[[bytes], dict[str, str]]
    answers: frozenset[int]


def careem_headers(raw: bytes) -> dict[str, str]:
    return {"HTTP_X_CAREEM_SIGNATURE": hex_hmac(secret=intake_settings("careem").secret, message=raw)}


def talabat_headers(raw: bytes) -> dict[str, str]:
    return {"HTTP_X_TALABAT_SIGNATURE": hex_hmac(secret=intake_settings("talabat").secret, message=raw)}


def signed_as(provider: str) -> Callable[[bytes], dict[str, str]]:
    """Signed as the provider signs (Deliveroo: over its sequence GUID and the body; Uber Eats: X-Uber-Signature)."""
    def headers(raw: bytes) -> dict[str, str]:
        signed = signature_headers(adapter=ADAPTERS[provider], secret=intake_settings(provider).secret, body=raw)
        return {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in signed.items()}
    return headers


def backend_key(raw: bytes) -> dict[str, str]:
    return {"HTTP_X_AUTH": settings.BACKEND_CALLBACK_KEY}


def wallet_headers(raw: bytes) -> dict[str, str]:
    return signed_headers(raw)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def order_path(action: str) -> Callable[[], str]:
    return lambda: f"/api/orders/{OrderFactory.create(provider='careem', provider_refs={}).id}/{action}"


WALLET_ANSWERS = frozenset({201, 400, 402, 404, 409, 422, 502, 503})
INTAKE_ANSWERS = frozenset({200, 202, 400, 401, 422})  # 401: the number stood where the branch is named
DECISION_ANSWERS = frozenset({200, 202, 400, 409, 422})
LOCATION_ANSWERS = frozenset({200, 201, 400, 422})
MENU_ANSWERS = frozenset({200, 202, 400, 422})
money = {"playerId": "p", "amountCents": 100, "currency": "USD", "refId": "r", "meta": {"n": 1}}
BODIES: dict[str, list[Route]] = {
    "wallet-debit": [Route("post", lambda: "/wallet/debit", lambda: money, wallet_headers, WALLET_ANSWERS),
                     Route("post", lambda: "/wallet/debit", lambda: {**money, "roundId": "rd", "roundClosed": True},
                           wallet_headers, WALLET_ANSWERS)],
    "wallet-credit": [Route("post", lambda: "/wallet/credit", lambda: money, wallet_headers, WALLET_ANSWERS),
                      Route("post", lambda: "/wallet/credit", lambda: {
                          **money, "roundId": "rd", "roundClosed": False, "betRefId": "bet", "kind": "JACKPOT"},
                          wallet_headers, WALLET_ANSWERS)],
    "wallet-rollback": [Route("post", lambda: "/wallet/rollback",
                              lambda: {"playerId": "p", "refId": "rb", "originalRefId": "r"}, wallet_headers,
                              WALLET_ANSWERS)],
    "provider-webhook": [
        Route("post", lambda: "/api/webhooks/careem", lambda: fixture("careem/order_created_jod.json"), careem_headers,
              INTAKE_ANSWERS),
        Route("post", lambda: "/api/webhooks/careem", lambda: fixture("careem/simple_form.json"), careem_headers,
              INTAKE_ANSWERS),
        Route("post", lambda: "/api/webhooks/talabat", lambda: fixture("talabat/dispatch_rider_kwd.json"),
              talabat_headers, INTAKE_ANSWERS),
        Route("post", lambda: "/api/webhooks/deliveroo", lambda: fixture("deliveroo/order_new_kw_restaurant_delivery.json"),
              signed_as("deliveroo"), INTAKE_ANSWERS),
        Route("post", lambda: "/api/webhooks/ubereats", lambda: fixture("ubereats/event_orders_notification.json"),
              signed_as("ubereats"), INTAKE_ANSWERS),
    ],
    "location": [Route("put", lambda: "/api/locations/site-1", lambda: {
        "name": "Salmiya", "branches": [{"provider": "talabat", "externalId": "kw-684213"}]}, backend_key,
        LOCATION_ANSWERS)],
    "location-menu": [Route("put", lambda: "/api/locations/salmiya/menu", lambda: fixture("menus/demo_menu.json"),
                            backend_key, MENU_ANSWERS)],
    "location-availability": [Route("post", lambda: "/api/locations/salmiya/availability", lambda: {
        "items": [{"id": "FRIES", "available": False, "until": None}]}, backend_key, frozenset({202, 400, 422}))],
    "location-status": [Route("put", lambda: "/api/locations/salmiya/status", lambda: {"status": "closed", "until": None},
                              backend_key, frozenset({202, 400}))],
    "talabat-dispatch": [Route("post", lambda: "/api/webhooks/talabat/order/kw-684213",
                               lambda: fixture("talabat/dispatch_rider_kwd.json"), talabat_headers, INTAKE_ANSWERS)],
    "talabat-catalog": [Route("post", lambda: "/api/webhooks/talabat/catalog", lambda: {
        "catalogImportId": "imp-1", "status": "done_with_errors", "message": "m",
        "details": [{"posVendorId": "kw-684213", "status": "done_with_errors", "errors": [{"itemId": "x", "message": "m"}]}]},
        talabat_headers, INTAKE_ANSWERS)],
    "talabat-status": [Route("put", lambda: "/api/webhooks/talabat/remoteId/kw-684213/remoteOrder/x/posOrderStatus",
                             lambda: fixture("talabat/status_picked_up.json"), talabat_headers,
                             INTAKE_ANSWERS | {404})],
    "order-decision": [
        Route("post", order_path("accept"), lambda: {"preparationMinutes": 15}, lambda raw: {
            "HTTP_X_AUTH": settings.BACKEND_CALLBACK_KEY}, DECISION_ANSWERS),
        Route("post", order_path("reject"), lambda: {"reason": "TOO_BUSY", "message": "m"}, lambda raw: {
            "HTTP_X_AUTH": settings.BACKEND_CALLBACK_KEY}, DECISION_ANSWERS),
    ],
}


def routes_taking_a_body() -> Iterator[str]:
    return route_names(lambda view: view is not None and any(hasattr(view, m) for m in ("post", "put", "patch")))


def places(value: Any) -> Iterator[tuple]:
    """Every place a number could stand: each leaf, and a new unknown field in each object."""
    return walkers.places(value, leaf=lambda leaf: True, unknown="unknownNumber")


def with_mark(body: Any, place: tuple) -> Any:
    return with_value(body, place, MARK)


@pytest.fixture(autouse=True)
def setup(settings):
    settings.WEBHOOK_RATE_LIMIT = 1_000_000
    settings.WEBHOOK_UNAUTHENTICATED_RATE_LIMIT = 1_000_000  # a number where the branch stands is a 401 each
    settings.OPERATOR_BASE_URL = "http://127.0.0.1:9"  # nothing listens: the wallet answers 503 if it gets that far
    settings.OPERATOR_RETRY_DEADLINE_SECONDS = 0.1
    settings.OPERATOR_MAX_ATTEMPTS = 1
    careem, talabat = Provider.objects.create(name="careem"), Provider.objects.create(name="talabat")
    Branch.objects.create(provider=careem, external_id="loc_amman_abdoun", currency="JOD")
    Branch.objects.create(provider=talabat, external_id="kw-684213", currency="KWD")
    for name, branch in (("deliveroo", "kw-salmiya-07"), ("ubereats", "c7f1dc2f-fabe-4997-845c-cad26fdcb894")):
        Branch.objects.create(provider=Provider.objects.create(name=name), external_id=branch)
    Location.objects.create(id="salmiya")
    DestinationFactory(name="backend")
    DestinationFactory(name="rgs")


def test_every_route_that_takes_a_body_is_walked():
    assert set(routes_taking_a_body()) == set(BODIES)


@pytest.mark.parametrize("name", sorted(BODIES))
def test_hostile_numbers_anywhere_get_a_documented_answer_at_once(name):
    client = Client()
    for route in BODIES[name]:
        template = route.body()
        for place in places(template):
            for literal in HOSTILE_NUMBERS:
                raw = json.dumps(with_mark(template, place)).replace(f'"{MARK}"', literal).encode()
                started = time.process_time()
                answer = getattr(client, route.method)(route.path(), data=raw, content_type="application/json",
                                                       **route.headers(raw))
                spent = time.process_time() - started
                assert answer.status_code in route.answers, (name, place, literal[:20], answer.content[:300])
                assert spent < CPU_SECONDS_PER_REQUEST, (name, place, literal[:20], spent)
