"""GET /wallet/balance (issue 36): signed, asked of the real Operator fake every time, never cached; an
unknown player, another currency, the Operator down: each its documented answer, never a 500."""

from urllib.parse import urlencode

import pytest
import requests
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from wallet.tests.helpers import signed_get_headers, debit_body, wallet_post
from webhooks.tests.factories import DestinationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]  # the debit settles in autocommit


@pytest.fixture
def operator(operator_mock, settings):
    settings.OPERATOR_BASE_URL = operator_mock.url
    DestinationFactory(name="rgs")  # a debit's webhook
    requests.post(f"{operator_mock.url}/__control/players", timeout=5,
                  json={"playerId": "p-1", "currency": "USD", "balanceCents": 10_000}).raise_for_status()
    return operator_mock


def balance(client, signed: bool = True, **params):
    path = f"/wallet/balance?{urlencode(params)}".rstrip("?")
    return client.get(path, **(signed_get_headers(path) if signed else {}))


def test_the_balance_is_the_operators_now_and_follows_a_debit(client, operator):
    first = balance(client, playerId="p-1", currency="USD")
    assert wallet_post(client, "debit", debit_body(player="p-1", amount=1234)).status_code == 201
    second = balance(client, playerId="p-1", currency="USD")

    assert (first.status_code, first.json()) == (200, {"status": "OK", "playerId": "p-1", "currency": "USD",
                                                       "balanceCents": 10_000})
    assert second.json()["balanceCents"] == 8_766  # asked again, not cached
    assert [r["path"] for r in operator.requests("balance")] == ["/api/v1/wallet/balance/p-1"] * 2


def test_an_unknown_player_is_404_and_is_not_created(client, operator):
    answer = balance(client, playerId="nobody", currency="USD")

    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "PLAYER_NOT_FOUND")
    assert requests.get(f"{operator.url}/__control/players/nobody", timeout=5).status_code == 404


def test_another_currency_unsupported_currency_and_bad_queries_are_refused(client, operator):
    mismatch = balance(client, playerId="p-1", currency="EUR")
    unsupported = balance(client, playerId="p-1", currency="KWD")
    missing = balance(client, playerId="p-1")
    extra = balance(client, playerId="p-1", currency="USD", round="1")
    blank = balance(client, playerId=" ", currency="usd")

    assert (mismatch.status_code, mismatch.json()["error"]["code"]) == (409, "CURRENCY_MISMATCH")
    assert mismatch.json()["error"]["details"] == {"playerCurrency": "USD"}
    assert (unsupported.status_code, unsupported.json()["error"]["code"]) == (422, "UNSUPPORTED_CURRENCY")
    assert (missing.status_code, missing.json()["error"]["details"]) == (400, {"currency": ["This parameter is required."]})
    assert extra.status_code == 400 and "round" in extra.json()["error"]["details"]
    assert blank.status_code == 400 and set(blank.json()["error"]["details"]) == {"playerId", "currency"}


def test_the_signature_is_required(client, operator):
    assert balance(client, signed=False, playerId="p-1", currency="USD").status_code == 401
    assert operator.requests("balance") == []


def test_a_failing_operator_is_retried_and_one_that_stays_down_is_503_with_retry_after(client, operator, settings):
    operator.script("balance", [{"status": 500}])
    assert balance(client, playerId="p-1", currency="USD").json()["balanceCents"] == 10_000
    assert [r["status"] for r in operator.requests("balance")] == [500, 200]

    settings.OPERATOR_BASE_URL = "http://127.0.0.1:9"  # nothing listens
    settings.OPERATOR_RETRY_DEADLINE_SECONDS = 0.2
    down = balance(client, playerId="p-1", currency="USD")
    assert (down.status_code, down.json()["error"]["code"]) == (503, "OPERATOR_UNAVAILABLE")
    assert int(down["Retry-After"]) >= 1


@hypothesis_settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(["playerId", "currency", "x", "refId"]), st.text(max_size=80), max_size=4))
def test_any_query_is_a_documented_answer(client, operator, params):
    answer = balance(client, **params)

    assert answer.status_code in {200, 400, 404, 409, 422}, answer.content[:300]
