"""A Deliveroo order and an Uber Eats order each go round the loop over real HTTP, as the README's "Try it"
does: signed webhook → (Uber Eats: the worker fetches the order) → internal order → restaurant backend fake →
the backend's accept → the provider's fake, with a real Celery worker and outbox dispatcher."""

import json
from pathlib import Path

import pytest
import requests
from django.conf import settings

from hub.testing import wait_until
from providers.adapters import ADAPTERS
from providers.auth import signature_headers
from providers.config import intake_settings
from providers.tests.factories import BranchFactory, ProviderFactory
from webhooks.tests.factories import DestinationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
LOOPS = {  # provider → (webhook fixture, its branch, the provider's order id, the fake's state once accepted)
    "deliveroo": ("deliveroo/order_new_kw_restaurant_delivery.json", "kw-salmiya-07",
                  "kw:7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f", "accepted"),
    "ubereats": ("ubereats/event_orders_notification.json", "c7f1dc2f-fabe-4997-845c-cad26fdcb894",
                 "f9f363d1-e1c2-4595-b477-c649845bc953", "ACCEPTED"),
}


def fake_env(name: str, url: str) -> dict[str, str]:
    if name == "deliveroo":
        return {"DELIVEROO_API_BASE_URL": url, "DELIVEROO_TOKEN_URL": f"{url}/oauth2/token"}
    return {"UBEREATS_API_BASE_URL": url, "UBEREATS_TOKEN_URL": f"{url}/oauth/v2/token"}


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_an_order_goes_webhook_backend_accept_provider(name, live_server, backend_mock, mock_processes, start_worker):
    webhook, branch, external_id, accepted = LOOPS[name]
    fake = mock_processes(name)
    if name == "ubereats":  # the order the worker will fetch
        order = json.loads((FIXTURES / "ubereats/order_docs_usd.json").read_text())
        requests.post(f"{fake.url}/__control/orders", json={"order": order}, timeout=5).raise_for_status()
    BranchFactory(provider=ProviderFactory(name=name), external_id=branch)
    DestinationFactory(name="backend", url=backend_mock.url, signing_secrets="", auth_header_name="X-AUTH",
                       auth_header_value=settings.BACKEND_API_KEY)
    start_worker(**fake_env(name, fake.url))
    body = (FIXTURES / webhook).read_bytes()
    headers = signature_headers(adapter=ADAPTERS[name], secret=intake_settings(name).secret, body=body)

    answer = requests.post(f"{live_server.url}/api/webhooks/{name}", data=body, timeout=10,
                           headers={"Content-Type": "application/json", **headers})

    assert answer.status_code == 200
    wait_until(lambda: backend_mock.control("orders")["count"] == 1, timeout=30, what=f"the {name} order at the backend")
    [received] = backend_mock.control("orders")["orders"]
    assert (received["order"]["provider"], received["order"]["externalOrderId"]) == (name, external_id)

    decided = requests.post(f"{live_server.url}/api/orders/{received['order']['id']}/accept", json={}, timeout=10,
                            headers={"X-AUTH": settings.BACKEND_CALLBACK_KEY})

    assert decided.status_code == 202 and decided.json()["status"] == "ACCEPTED"
    wait_until(lambda: fake.control("orders")["orders"].get(external_id, {}).get("state") == accepted, timeout=30,
               what=f"the acceptance at {name}'s fake")
