"""Every route of the URL configuration, sent hostile strings in every string of its body, every path
parameter and every query value: NUL, a trailing newline, CR, LF, CRLF, dot segments, slashes (plain and
encoded), an encoded NUL, a right-to-left mark, a lone surrogate, 10,000 characters, leading and trailing
spaces. Each answer is one the route documents, in bounded time, and a 4xx writes nothing (intake's
refusals write their one audit row, as documented).

The routes are read from the URL configuration (the admin aside: staff only, behind a session and the
same NUL refusal, walked by its browser tests): a new route fails `test_every_route_is_walked` until it is
added to WALKS."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from providers.models import InboundWebhook
from tests.walkers import places, route_names, with_value
from tests.test_hostile_numbers import BODIES, backend_key, careem_headers, setup  # noqa: F401  (setup: autouse)
from wallet.tests.helpers import signed_get_headers

pytestmark = pytest.mark.django_db
MARK = "__hostile__"
CPU_SECONDS_PER_REQUEST = 1.0
LONG = "x" * 10_000
# In a JSON string (json.dumps writes the surrogate as the escape "\udc80", which is how a caller sends it)
BODY_STRINGS = ["\x00", "a\n", "\r", "\n", "\r\n", "..", ".", "/", "%2F", "%00", "\u200f", "\udc80", LONG, " a "]
# In a URL, as sent on the wire (percent-encoded where a raw byte could not be)
URL_PIECES = ["%00", "a%0A", "%0D", "%0A", "%0D%0A", "..", ".", "%2E%2E", "%2F", "%252F", "%E2%80%8F", "%ED%B2%80",
              LONG, "%20a%20", "a%00b"]
NOT_FOUND_OR_BAD = frozenset({400, 404})
# The wallet's business answers are kept under the Idempotency-Key, and a rollback of an unknown original
# leaves its tombstone (docs/INTEGRATION.md): those 4xx write by design. Every other 4xx writes nothing.
WALLET_KEPT = frozenset({402, 404, 409})
KEPT = {"wallet-debit": WALLET_KEPT, "wallet-credit": WALLET_KEPT, "wallet-rollback": WALLET_KEPT}


@dataclass(frozen=True)
class Walk:
    method: str
    path: str  # with {name} for each path parameter
    params: dict[str, str] = field(default_factory=dict)  # a plain value for each
    query: dict[str, str] = field(default_factory=dict)
    headers: Callable[[bytes, str], dict[str, str]] = lambda raw, target: {}
    answers: frozenset[int] = frozenset({200})

    def target(self, params: dict[str, str], query: dict[str, str]) -> str:
        path = self.path.format(**params)
        return path + ("?" + "&".join(f"{name}={value}" for name, value in query.items()) if query else "")


def signed_get(raw: bytes, target: str) -> dict[str, str]:
    """Signed over the target as sent; RAW_URI is where gunicorn keeps it (the test client sends the
    decoded path only)."""
    return {**signed_get_headers(target), "RAW_URI": target}


def stats_token(raw: bytes, target: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Bearer hostile-walk-token"}


def key(raw: bytes, target: str) -> dict[str, str]:
    return backend_key(raw)


ORDER = "0b8f3e0e-8a7c-4a4c-9d51-6f7b3c0f2a10"
WALLET_READS = frozenset({200, 400, 404, 409, 422, 502, 503})
WALKS: dict[str, list[Walk]] = {
    "health": [Walk("get", "/health", answers=frozenset({200, 503}))],
    "health-ready": [Walk("get", "/health/ready", answers=frozenset({200, 503}))],
    "metrics": [Walk("get", "/metrics")],
    "schema": [Walk("get", "/api/schema/", query={"format": "json"}, answers=frozenset({200, 404}))],
    "api-docs": [Walk("get", "/api/docs/")],
    "not-found": [Walk("get", "/{rest}", params={"rest": "nowhere"}, answers=frozenset({404}))],
    "wallet-balance": [Walk("get", "/wallet/balance", query={"playerId": "p", "currency": "USD"}, headers=signed_get,
                            answers=WALLET_READS)],
    "wallet-round": [Walk("get", "/wallet/rounds/{round_id}", params={"round_id": "r-1"}, headers=signed_get,
                          answers=WALLET_READS)],
    "wallet-transaction": [Walk("get", "/wallet/transactions/{ref_id}", params={"ref_id": "r-1"}, headers=signed_get,
                                answers=WALLET_READS)],
    "webhook-stats": [Walk("get", "/api/webhooks/stats/{provider}", params={"provider": "careem"}, headers=stats_token)],
    "location-sync": [Walk("get", "/api/locations/{location_id}/sync", params={"location_id": "salmiya"},
                           headers=key)],
    "provider-webhook": [Walk("post", "/api/webhooks/{provider}", params={"provider": "careem"},
                              headers=lambda raw, target: careem_headers(raw), answers=frozenset({200, 400, 401, 422}))],
    "talabat-dispatch": [Walk("post", "/api/webhooks/talabat/order/{remote_id}", params={"remote_id": "kw-684213"},
                              answers=frozenset({400, 401, 422}))],
    "talabat-status": [Walk("put", "/api/webhooks/talabat/remoteId/{remote_id}/remoteOrder/{order}/posOrderStatus",
                            params={"remote_id": "kw-684213", "order": "x"}, answers=frozenset({400, 401, 404, 422}))],
    "talabat-catalog": [Walk("post", "/api/webhooks/talabat/catalog", answers=frozenset({400, 401, 422}))],
    "order-decision": [Walk("post", "/api/orders/{order_id}/{action}", params={"order_id": ORDER, "action": "accept"},
                            headers=key, answers=frozenset({400, 404, 409, 422}))],
    "location": [Walk("put", "/api/locations/{location_id}", params={"location_id": "site-1"}, headers=key,
                      answers=frozenset({200, 201, 400, 422}))],
    "location-menu": [Walk("put", "/api/locations/{location_id}/menu", params={"location_id": "salmiya"}, headers=key,
                           answers=frozenset({400, 404, 422}))],
    "location-availability": [Walk("post", "/api/locations/{location_id}/availability",
                                   params={"location_id": "salmiya"}, headers=key, answers=frozenset({400, 404, 422}))],
    "location-status": [Walk("put", "/api/locations/{location_id}/status", params={"location_id": "salmiya"},
                             headers=key, answers=frozenset({400, 404, 422}))],
    "wallet-debit": [Walk("post", "/wallet/debit", answers=frozenset({400, 401}))],
    "wallet-credit": [Walk("post", "/wallet/credit", answers=frozenset({400, 401}))],
    "wallet-rollback": [Walk("post", "/wallet/rollback", answers=frozenset({400, 401}))],
}


# Intake's audit rows are its documented record of every request; the cache table holds the rate limiter's
# counters (when no Redis is configured), which count refusals by design.
NOT_STATE = (InboundWebhook._meta.db_table, settings.CACHES["default"].get("LOCATION", ""))


def rows_written() -> dict[str, tuple[int, int]]:
    """Per table, the rows this test's transaction has added net (inserted less deleted) and updated so far:
    a refusal that takes a row and gives it back (the wallet's Idempotency-Key claim) leaves nothing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, n_tup_ins - n_tup_del, n_tup_upd FROM pg_stat_xact_user_tables "
                       "WHERE NOT relname = ANY(%s)", [list(NOT_STATE)])
        return {name: (added, updated) for name, added, updated in cursor.fetchall()}


def send(client: Client, method: str, target: str, raw: bytes | None, headers: dict[str, str],
         answers: frozenset[int], what: tuple) -> None:
    kept = KEPT.get(what[0], frozenset())
    written = rows_written()
    started = time.process_time()
    options = {"data": raw, "content_type": "application/json"} if raw is not None else {}
    answer = getattr(client, method)(target, **options, **headers)
    spent = time.process_time() - started
    assert answer.status_code in answers, (what, answer.status_code, answer.content[:300])
    assert spent < CPU_SECONDS_PER_REQUEST, (what, spent)
    if 400 <= answer.status_code < 500 and answer.status_code not in kept:
        assert rows_written() == written, (what, answer.status_code, "a refusal wrote rows")


@pytest.fixture(autouse=True)
def stats(settings):
    settings.WEBHOOK_STATS_TOKEN = "hostile-walk-token"


def test_every_route_is_walked():
    assert set(route_names()) == set(WALKS)


@pytest.mark.parametrize("name", sorted(WALKS))
def test_hostile_strings_in_every_path_parameter_and_query_value_get_a_documented_answer(name):
    client = Client()
    for walk in WALKS[name]:
        routes = BODIES.get(name, [])[:1]
        raw = json.dumps(routes[0].body()).encode() if routes else None
        answers = walk.answers | NOT_FOUND_OR_BAD | (routes[0].answers if routes else frozenset())
        variants = [({**walk.params, param: piece}, walk.query) for param in walk.params for piece in URL_PIECES]
        variants += [(walk.params, {**walk.query, param: piece}) for param in [*walk.query, "x"] for piece in URL_PIECES]
        for params, query in variants:
            target = walk.target(params, query)
            send(client, walk.method, target, raw, walk.headers(raw or b"", target),
                 answers, (name, params, query))


@pytest.mark.parametrize("name", sorted(BODIES))
def test_hostile_strings_in_every_string_of_every_body_get_a_documented_answer(name):
    client = Client()
    for route in BODIES[name]:
        template = route.body()
        for place in places(template, leaf=lambda leaf: isinstance(leaf, str), unknown="unknownString"):
            for text in BODY_STRINGS:
                raw = json.dumps(with_value(template, place, text)).encode()
                send(client, route.method, route.path(), raw, route.headers(raw), route.answers | {400},
                     (name, place, text[:20]))
