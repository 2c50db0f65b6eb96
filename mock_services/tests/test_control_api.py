"""The shared control API, exercised over real HTTP against the backend fake."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings

pytestmark = pytest.mark.e2e

AUTH = {"X-AUTH": settings.BACKEND_API_KEY}


def post_order(mock, order_id: str = "o-1", event_id: str = "evt-1", headers=AUTH):
    envelope = {"id": event_id, "type": "order.created", "occurredAt": "2026-01-01T00:00:00Z", "data": {"id": order_id}}
    return requests.post(f"{mock.url}/api/v1/orders", json=envelope, headers=headers, timeout=5)


def test_script_answers_in_order_then_behaves_normally(backend_mock):
    backend_mock.script(
        "orders",
        [{"status": 500}, {"status": 429, "headers": {"Retry-After": "2"}}, {"pass": True, "delayMs": 0}],
    )

    answers = [post_order(backend_mock, order_id=f"o-{n}", event_id=f"e-{n}") for n in range(4)]

    assert [a.status_code for a in answers] == [500, 429, 201, 201]
    assert answers[1].headers["Retry-After"] == "2"
    assert answers[0].json() == {"error": "scripted", "status": 500}


def test_scripted_body_and_delay(backend_mock):
    backend_mock.script("orders", [{"status": 503, "body": {"error": "maintenance"}, "delayMs": 300}])

    started = time.monotonic()
    answer = post_order(backend_mock)

    assert time.monotonic() - started >= 0.3
    assert (answer.status_code, answer.json()) == (503, {"error": "maintenance"})


def test_a_new_script_replaces_the_old_one(backend_mock):
    backend_mock.script("orders", [{"status": 500}, {"status": 500}])
    backend_mock.script("orders", [{"status": 418}])

    assert [post_order(backend_mock, event_id=f"e-{n}").status_code for n in range(2)] == [418, 201]


def test_requests_are_recorded_with_method_path_headers_body_and_answer(backend_mock):
    post_order(backend_mock, order_id="o-7", headers={"X-AUTH": "wrong"})
    post_order(backend_mock, order_id="o-7")
    requests.post(f"{backend_mock.url}/api/v1/orders/o-7/status", json={"id": "e-2", "data": {"status": "READY"}},
                  headers=AUTH, timeout=5)

    orders = backend_mock.requests("orders")
    everything = backend_mock.requests()

    assert [(r["method"], r["path"], r["status"]) for r in orders] == [
        ("POST", "/api/v1/orders", 401),
        ("POST", "/api/v1/orders", 201),
    ]
    assert orders[0]["headers"]["X-Auth"] == "wrong"
    assert '"id": "o-7"' in orders[1]["body"]
    assert [r["route"] for r in everything] == ["orders", "orders", "order_status"]


def test_reset_forgets_scripts_requests_and_state(backend_mock):
    assert post_order(backend_mock).status_code == 201
    backend_mock.script("orders", [{"status": 500}])
    assert backend_mock.control("orders")["count"] == 1

    backend_mock.reset()

    assert backend_mock.requests() == []
    assert backend_mock.control("orders")["count"] == 0
    assert post_order(backend_mock).status_code == 201  # neither the script nor the order survived


def test_invalid_scripts_are_rejected_with_every_reason(backend_mock):
    answer = requests.post(
        f"{backend_mock.url}/__control/script",
        json={"route": "nope", "responses": [{"status": 99}, {"pass": True, "delayMs": -1}, "x"]},
        timeout=5,
    )

    assert answer.status_code == 400
    details = answer.json()["details"]
    assert len(details) == 4
    assert "route must be one of ['order_status', 'orders']" in details


def test_malformed_control_requests_are_400(backend_mock):
    assert requests.post(f"{backend_mock.url}/__control/script", data=b"{", timeout=5).status_code == 400
    assert requests.get(f"{backend_mock.url}/__control/requests?route=nope", timeout=5).status_code == 400


def test_concurrent_requests_consume_each_scripted_answer_exactly_once(backend_mock):
    backend_mock.script("orders", [{"status": 503}] * 5)

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda n: post_order(backend_mock, f"o-{n}", f"e-{n}").status_code, range(10)))

    assert sorted(statuses) == [201] * 5 + [503] * 5
    assert len(backend_mock.requests("orders")) == 10


def test_operator_fake_serves_the_control_api(operator_mock):
    assert requests.get(f"{operator_mock.url}/__control/requests", timeout=5).json() == {
        "route": None,
        "count": 0,
        "requests": [],
    }
    assert requests.post(f"{operator_mock.url}/__control/reset", timeout=5).json() == {"reset": True}


def test_a_fake_keeps_the_last_n_requests_and_orders(tmp_path):
    """MOCK_RECORD_LIMIT bounds what a fake remembers, so its memory stays flat over a long run."""
    from mock_services.testing import start_mock

    mock = start_mock("backend", log_dir=tmp_path, MOCK_RECORD_LIMIT="3")
    try:
        for n in range(5):
            assert post_order(mock, order_id=f"o-{n}", event_id=f"e-{n}").status_code == 201
        recorded = mock.requests("orders")
        orders = mock.control("orders")["orders"]
    finally:
        mock.stop()

    assert len(recorded) == 3 and '"o-4"' in recorded[-1]["body"] and '"o-2"' in recorded[0]["body"]
    assert sorted(order["orderId"] for order in orders) == ["o-2", "o-3", "o-4"]
