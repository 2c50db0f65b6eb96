"""Every status a route answers is in the schema: each operation of the schema is sent what makes it
refuse (no credentials, a huge body, malformed JSON, a database outage) and what it accepts, and every
status seen must be documented for that operation. A new operation fails this test until it is probed."""

import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client

from tests.test_hostile_numbers import BODIES, setup  # noqa: F401  (the fixture: providers and branches)
from wallet.tests.helpers import signed_get_headers

pytestmark = pytest.mark.django_db(transaction=True)  # a probed outage closes the connection
HUGE = b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}'


def schema(client: Client) -> dict:
    return client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


@contextmanager
def database_down() -> Iterator[None]:
    original = CursorWrapper.execute

    def refuse(self, *args, **kwargs):
        raise OperationalError("connection refused")

    CursorWrapper.execute = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        CursorWrapper.execute = original  # type: ignore[method-assign]


def test_every_status_an_operation_answers_is_documented(client):
    seen: dict[tuple[str, str], set[int]] = defaultdict(set)

    def send(method: str, operation: str, path: str, body: bytes = b"", **headers: str) -> None:
        answer = getattr(client, method)(path, data=body, content_type="application/json", **headers)
        seen[(method, operation)].add(answer.status_code)

    # the body-taking routes, as the hostile-numbers test knows them (signed, with valid bodies)
    templates = {"wallet-debit": "/wallet/debit", "wallet-credit": "/wallet/credit",
                 "wallet-rollback": "/wallet/rollback", "provider-webhook": "/api/webhooks/{provider}",
                 "talabat-dispatch": "/api/webhooks/talabat/order/{remote_id}",
                 "talabat-status": "/api/webhooks/talabat/remoteId/{remote_id}/remoteOrder/{remote_order_id}/posOrderStatus",
                 "order-decision": "/api/orders/{order_id}/{action}", "location": "/api/locations/{location_id}",
                 "location-menu": "/api/locations/{location_id}/menu",
                 "location-availability": "/api/locations/{location_id}/availability",
                 "location-status": "/api/locations/{location_id}/status", "talabat-catalog": "/api/webhooks/talabat/catalog"}
    for name, routes in BODIES.items():
        for route in routes:
            operation, path = templates[name], route.path()
            valid = json.dumps(route.body()).encode()
            for body in (valid, b"{not json", b"[1]", HUGE):
                send(route.method, operation, path, body, **route.headers(body))
            send(route.method, operation, path, valid)  # no credentials
            with database_down():
                send(route.method, operation, path, valid, **route.headers(valid))

    lookup = "/wallet/transactions/{ref_id}"
    for ref_id in ("r", "no-such-ref"):
        send("get", lookup, f"/wallet/transactions/{ref_id}", **signed_get_headers(f"/wallet/transactions/{ref_id}"))
    send("get", lookup, "/wallet/transactions/r")
    with database_down():
        send("get", lookup, "/wallet/transactions/r", **signed_get_headers("/wallet/transactions/r"))

    rounds = "/wallet/rounds/{round_id}"
    send("get", rounds, "/wallet/rounds/no-such-round", **signed_get_headers("/wallet/rounds/no-such-round"))
    send("get", rounds, "/wallet/rounds/no-such-round")
    with database_down():
        send("get", rounds, "/wallet/rounds/no-such-round", **signed_get_headers("/wallet/rounds/no-such-round"))

    balance = "/wallet/balance"
    for query in ("playerId=p&currency=USD", "playerId=p", "playerId=p&currency=KWD"):
        send("get", balance, f"/wallet/balance?{query}", **signed_get_headers(f"/wallet/balance?{query}"))
    send("get", balance, "/wallet/balance?playerId=p&currency=USD")
    with database_down():
        send("get", balance, "/wallet/balance?playerId=p&currency=USD", **signed_get_headers("/wallet/balance?playerId=p&currency=USD"))

    sync = "/api/locations/{location_id}/sync"
    send("get", sync, "/api/locations/salmiya/sync", HTTP_X_AUTH=settings.BACKEND_CALLBACK_KEY)
    send("get", sync, "/api/locations/nowhere/sync", HTTP_X_AUTH=settings.BACKEND_CALLBACK_KEY)
    send("get", sync, "/api/locations/salmiya/sync")
    with database_down():
        send("get", sync, "/api/locations/salmiya/sync", HTTP_X_AUTH=settings.BACKEND_CALLBACK_KEY)

    stats = "/api/webhooks/stats/{provider}"
    send("get", stats, "/api/webhooks/stats/careem")
    client.force_login(User.objects.create_user("ops", password="x", is_staff=True))
    send("get", stats, "/api/webhooks/stats/careem")
    send("get", stats, "/api/webhooks/stats/nobody")
    client.force_login(User.objects.create_superuser("root", password="x"))
    send("get", stats, "/api/webhooks/stats/careem")
    for health in ("/health", "/health/ready"):
        send("get", health, health)
        with database_down():
            send("get", health, health)

    client.logout()
    documented = {(method, path): {int(status) for status in operation["responses"]}
                  for path, item in schema(client)["paths"].items() for method, operation in item.items()}
    assert set(seen) == set(documented), "probe every operation of the schema"
    undocumented = {key: sorted(statuses - documented[key]) for key, statuses in seen.items()
                    if statuses - documented[key]}
    assert undocumented == {}
