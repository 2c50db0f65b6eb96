"""The Operator fake over real HTTP (SPEC §4, §5)."""

import pytest
import requests
from django.conf import settings

pytestmark = pytest.mark.e2e
AUTH = {"Authorization": f"Bearer {settings.OPERATOR_API_KEY}"}


def call(mock, route: str, body: dict, headers=AUTH) -> requests.Response:
    return requests.post(f"{mock.url}/api/v1/wallet/{route}", json=body, headers=headers, timeout=5)


def withdraw(mock, tx: str, amount: str = "12.34", player: str = "p1", currency: str = "USD"):
    return call(mock, "withdraw", {"player_id": player, "amount": amount, "currency": currency, "transaction_id": tx})


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": settings.OPERATOR_API_KEY}])
def test_wallet_routes_need_the_bearer_key(operator_mock, headers):
    assert call(operator_mock, "withdraw", {}, headers=headers).status_code == 401


def test_a_new_player_starts_with_100_and_withdrawals_are_idempotent(operator_mock):
    first = withdraw(operator_mock, "tx-1")
    again = withdraw(operator_mock, "tx-1")
    other = withdraw(operator_mock, "tx-2", "7.66")

    assert first.status_code == 200
    assert first.json()["balance"] == "87.66" and first.json()["status"] == "approved"
    assert again.json() == first.json()
    assert other.json()["balance"] == "80.00"


def test_insufficient_funds_and_unknown_players(operator_mock):
    requests.post(f"{operator_mock.url}/__control/players", json={"playerId": "poor", "currency": "USD", "balanceCents": 500}, timeout=5)
    requests.post(f"{operator_mock.url}/__control/players", json={"playerId": "ghost", "missing": True}, timeout=5)

    poor = withdraw(operator_mock, "tx-p", "5.01", player="poor")
    ghost = withdraw(operator_mock, "tx-g", player="ghost")

    assert (poor.status_code, poor.json()) == (402, {"error": "insufficient_funds", "balance": "5.00"})
    assert (ghost.status_code, ghost.json()) == (404, {"error": "player_not_found"})


def test_three_decimal_currencies_and_invalid_amounts(operator_mock):
    kwd = withdraw(operator_mock, "tx-k", "1.250", player="kw", currency="KWD")
    too_precise = withdraw(operator_mock, "tx-x", "1.234")

    assert kwd.json()["balance"] == "98.750"
    assert too_precise.status_code == 400


def test_deposit_and_rollback(operator_mock):
    withdraw(operator_mock, "bet-1", "10.00")
    deposit = call(operator_mock, "deposit", {"player_id": "p1", "amount": "5.00", "currency": "USD", "transaction_id": "win-1"})
    rollback = call(operator_mock, "rollback", {"transaction_id": "rb-1", "original_transaction_id": "bet-1", "player_id": "p1"})
    twice = call(operator_mock, "rollback", {"transaction_id": "rb-2", "original_transaction_id": "bet-1", "player_id": "p1"})
    unknown = call(operator_mock, "rollback", {"transaction_id": "rb-3", "original_transaction_id": "nope", "player_id": "p1"})
    of_deposit = call(operator_mock, "rollback", {"transaction_id": "rb-4", "original_transaction_id": "win-1", "player_id": "p1"})

    assert deposit.json()["balance"] == "95.00"
    assert (rollback.status_code, rollback.json()["status"], rollback.json()["balance"]) == (200, "rolled_back", "105.00")
    assert (twice.status_code, unknown.status_code, of_deposit.status_code) == (409, 404, 404)
    status = requests.get(f"{operator_mock.url}/api/v1/wallet/transactions/bet-1", headers=AUTH, timeout=5)
    assert (status.json()["status"], status.json()["amount"], status.json()["type"]) == ("rolled_back", "10.00", "withdraw")
    assert requests.get(f"{operator_mock.url}/api/v1/wallet/transactions/nope", headers=AUTH, timeout=5).status_code == 404


def listing(mock, **params) -> dict:
    answer = requests.get(f"{mock.url}/api/v1/transactions", params=params, headers=AUTH, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_listing_pages_in_transaction_id_order_over_a_half_open_window(operator_mock):
    control = f"{operator_mock.url}/__control/transactions"
    for tx, at in [("b", "2026-01-01T00:00:00Z"), ("a", "2026-01-01T12:00:00Z"), ("c", "2026-01-01T23:59:59.999999Z"),
                   ("d", "2026-01-02T00:00:00Z")]:
        requests.post(control, json={"op": "upsert", "transaction": {"transaction_id": tx, "amount": "1.00", "created_at": at}},
                      timeout=5)
    requests.post(control, json={"op": "delete", "transaction_id": "c"}, timeout=5)

    first = listing(operator_mock, **{"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "limit": 1})
    second = listing(operator_mock, **{"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "limit": 1,
                                       "cursor": first["next_cursor"]})

    assert [i["transaction_id"] for i in first["items"]] == ["a"]
    assert [i["transaction_id"] for i in second["items"]] == ["b"] and second["next_cursor"] is None
    assert set(first["items"][0]) == {"transaction_id", "operator_tx_id", "player_id", "type", "amount", "currency",
                                      "status", "created_at"}


def test_bulk_generation_pages_through_every_transaction_exactly_once(operator_mock):
    created = requests.post(f"{operator_mock.url}/__control/transactions/bulk", json={"count": 25_000, "date": "2026-03-01"},
                            timeout=120)
    assert created.json() == {"created": 25_000, "date": "2026-03-01"}

    seen, cursor = [], None
    while True:
        page = listing(operator_mock, **{"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z", "limit": 1000,
                                         **({"cursor": cursor} if cursor else {})})
        seen += [item["transaction_id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break

    assert len(seen) == 25_000 and seen == sorted(seen) and len(set(seen)) == 25_000


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"from": "yesterday"}, {"cursor": "%%%"}])
def test_listing_rejects_bad_parameters(operator_mock, params):
    answer = requests.get(f"{operator_mock.url}/api/v1/transactions", params=params, headers=AUTH, timeout=5)
    assert answer.status_code == 400


def test_the_wallet_routes_are_scriptable(operator_mock):
    operator_mock.script("withdraw", [{"status": 503}])
    assert withdraw(operator_mock, "tx-s").status_code == 503
    assert withdraw(operator_mock, "tx-s").status_code == 200
