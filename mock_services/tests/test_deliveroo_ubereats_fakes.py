"""The Deliveroo and Uber Eats fakes over real HTTP: bearer checks, bodies they refuse, their state machines,
Uber's seeded and template orders, and the common control API's scripted faults."""

import pytest
import requests
from django.conf import settings

pytestmark = pytest.mark.e2e


def token(mock, path: str, client_id: str, client_secret: str) -> str:
    answer = requests.post(f"{mock.url}{path}", data={"grant_type": "client_credentials", "client_id": client_id,
                                                      "client_secret": client_secret}, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


@pytest.fixture
def deliveroo(mock_processes):
    mock = mock_processes("deliveroo")
    bearer = token(mock, "/oauth2/token", settings.DELIVEROO_CLIENT_ID, settings.DELIVEROO_CLIENT_SECRET)
    return mock, {"Authorization": f"Bearer {bearer}"}


@pytest.fixture
def uber(mock_processes):
    mock = mock_processes("ubereats")
    bearer = token(mock, "/oauth/v2/token", settings.UBEREATS_CLIENT_ID, settings.UBEREATS_CLIENT_SECRET)
    return mock, {"Authorization": f"Bearer {bearer}"}


def test_deliveroo_refuses_a_wrong_secret_and_a_missing_bearer(deliveroo):
    mock, _ = deliveroo
    wrong = requests.post(f"{mock.url}/oauth2/token", data={"grant_type": "client_credentials",
                                                            "client_id": settings.DELIVEROO_CLIENT_ID,
                                                            "client_secret": "nope"}, timeout=5)
    unauthenticated = requests.patch(f"{mock.url}/order/v1/orders/gb:1", json={"status": "accepted"}, timeout=5)

    assert (wrong.status_code, unauthenticated.status_code) == (401, 401)


def test_deliveroo_accepts_once_refuses_bad_reasons_and_prep_before_acceptance(deliveroo):
    mock, auth = deliveroo
    order = f"{mock.url}/order/v1/orders/gb:42"

    assert requests.post(f"{order}/prep_stage", json={"stage": "ready_for_collection"}, headers=auth,
                         timeout=5).status_code == 409  # "accepted before they are prepared"
    assert requests.patch(order, json={"status": "rejected", "reject_reason": "TOO_BUSY"}, headers=auth,
                          timeout=5).status_code == 400
    assert requests.patch(order, json={"status": "accepted"}, headers=auth, timeout=5).status_code == 204
    assert requests.patch(order, json={"status": "accepted"}, headers=auth, timeout=5).status_code == 409
    assert requests.patch(order, json={"status": "rejected", "reject_reason": "busy"}, headers=auth,
                          timeout=5).status_code == 409
    assert requests.post(f"{order}/sync_status", json={"status": "failed", "occurred_at": "2026-01-01T00:00:00Z"},
                         headers=auth, timeout=5).status_code == 400  # a failure needs its reason
    assert requests.post(f"{order}/prep_stage", json={"stage": "ready_for_collection", "delay": 4}, headers=auth,
                         timeout=5).status_code == 204
    state = mock.control("orders")["orders"]["gb:42"]
    assert state["state"] == "accepted" and state["history"][-1]["stage"] == "ready_for_collection"


def test_uber_serves_seeded_orders_a_template_for_others_and_404_without(uber):
    mock, auth = uber
    assert requests.get(f"{mock.url}/v2/eats/order/o-1", headers=auth, timeout=5).status_code == 404
    requests.post(f"{mock.url}/__control/orders", json={"order": {"id": "o-1", "current_state": "CREATED", "x": 1}},
                  timeout=5).raise_for_status()
    requests.post(f"{mock.url}/__control/orders", json={"order": {"id": "t", "x": 2}, "template": True},
                  timeout=5).raise_for_status()

    seeded = requests.get(f"{mock.url}/v2/eats/order/o-1", headers=auth, timeout=5).json()
    other = requests.get(f"{mock.url}/v2/eats/order/o-2", headers=auth, timeout=5).json()

    assert (seeded["id"], seeded["x"], other["id"], other["x"], other["current_state"]) == ("o-1", 1, "o-2", 2, "CREATED")
    assert requests.get(f"{mock.url}/v2/eats/order/o-1", timeout=5).status_code == 401


def test_uber_accept_deny_cancel_follow_the_order_state(uber):
    mock, auth = uber
    for order_id in ("a", "d"):
        requests.post(f"{mock.url}/__control/orders", json={"order": {"id": order_id}}, timeout=5).raise_for_status()
    base = f"{mock.url}/v1/eats/orders"

    assert requests.post(f"{base}/a/accept_pos_order", json={"reason": "ok"}, headers=auth, timeout=5).status_code == 204
    assert requests.post(f"{base}/a/deny_pos_order", json={"reason": {"code": "CAPACITY"}}, headers=auth,
                         timeout=5).status_code == 409
    assert requests.post(f"{base}/d/deny_pos_order", json={"reason": {"code": "BUSY"}}, headers=auth,
                         timeout=5).status_code == 400
    assert requests.post(f"{base}/d/deny_pos_order", json={"reason": {"code": "CAPACITY"}}, headers=auth,
                         timeout=5).status_code == 204
    assert requests.post(f"{base}/d/cancel", json={"reason": "OTHER"}, headers=auth, timeout=5).status_code == 404
    assert requests.post(f"{base}/a/cancel", json={"reason": "OUT_OF_ITEMS"}, headers=auth, timeout=5).status_code == 204
    assert requests.get(f"{mock.url}/v2/eats/order/a", headers=auth, timeout=5).json()["current_state"] == "CANCELED"


def test_uber_order_fetches_can_be_scripted_to_fail(uber):
    mock, auth = uber
    requests.post(f"{mock.url}/__control/orders", json={"order": {"id": "s"}}, timeout=5).raise_for_status()
    mock.script("order", [{"status": 503, "headers": {"Retry-After": "1"}}])

    first = requests.get(f"{mock.url}/v2/eats/order/s", headers=auth, timeout=5)
    second = requests.get(f"{mock.url}/v2/eats/order/s", headers=auth, timeout=5)

    assert (first.status_code, first.headers["Retry-After"], second.status_code) == (503, "1", 200)
    assert [r["status"] for r in mock.requests("order")] == [503, 200]
