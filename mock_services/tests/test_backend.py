"""The restaurant backend fake over real HTTP."""

import pytest
import requests
from django.conf import settings

pytestmark = pytest.mark.e2e

AUTH = {"X-AUTH": settings.BACKEND_API_KEY}


def envelope(event_id: str, data: dict) -> dict:
    return {"id": event_id, "type": "order.created", "occurredAt": "2026-01-01T00:00:00Z", "data": data}


def create(mock, event_id="e1", order_id="o1", headers=AUTH):
    return requests.post(f"{mock.url}/api/v1/orders", json=envelope(event_id, {"id": order_id}), headers=headers, timeout=5)


def change(mock, order_id="o1", event_id="s1", status="READY"):
    return requests.post(f"{mock.url}/api/v1/orders/{order_id}/status", json=envelope(event_id, {"status": status}),
                         headers=AUTH, timeout=5)


@pytest.mark.parametrize("headers", [{}, {"X-AUTH": "wrong"}, {"X-AUTH": settings.BACKEND_API_KEY + "x"}])
def test_orders_need_the_api_key(backend_mock, headers):
    assert create(backend_mock, headers=headers).status_code == 401
    assert backend_mock.control("orders")["count"] == 0


def test_an_order_is_stored_once_even_when_redelivered(backend_mock):
    assert (create(backend_mock).status_code, create(backend_mock).json()) == (201, {"orderId": "o1", "duplicate": True})
    assert backend_mock.control("orders")["count"] == 1


def test_status_changes_are_kept_in_order_and_deduplicated_by_event_id(backend_mock):
    create(backend_mock)

    answers = [change(backend_mock, event_id="s1", status="ACCEPTED"), change(backend_mock, event_id="s1", status="ACCEPTED"),
               change(backend_mock, event_id="s2", status="READY")]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[1].json()["duplicate"] is True
    assert backend_mock.control("orders")["orders"][0]["statuses"] == ["ACCEPTED", "READY"]


def test_status_of_an_unknown_order_is_404(backend_mock):
    assert change(backend_mock, order_id="missing").status_code == 404


@pytest.mark.parametrize("body", [b"{", b'"just a string"', b'{"id": "e1"}', b'{"id": "e1", "data": {}}'])
def test_malformed_orders_are_400(backend_mock, body):
    answer = requests.post(f"{backend_mock.url}/api/v1/orders", data=body, headers=AUTH, timeout=5)
    assert answer.status_code == 400
    assert backend_mock.control("orders")["count"] == 0
