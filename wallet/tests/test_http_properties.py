"""Property-based tests of the wallet contract over HTTP: any JSON body (unknown fields of any
type, any number spelling, nulls, unicode the database cannot store, deep nesting), correctly
signed, gets one of the documented answers with the error shape, never a 500."""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hub.json_strategies import dumps, json_values, mutated
from wallet.tests.helpers import debit_body, signed_headers
from webhooks.tests.factories import DestinationFactory
from hub.testing import mock_http

pytestmark = pytest.mark.django_db
DOCUMENTED = {201, 400, 402, 404, 409, 422, 502, 503}
OPERATOR = "http://operator.test"


@pytest.fixture(autouse=True)
def operator(settings):
    settings.OPERATOR_BASE_URL = OPERATOR
    DestinationFactory(name="rgs")
    with mock_http(assert_all_requests_are_fired=False) as mock:
        for operation in ("withdraw", "deposit", "rollback"):
            mock.post(f"{OPERATOR}/api/v1/wallet/{operation}", json={
                "transaction_id": "x", "operator_tx_id": "op-1", "status": "approved", "balance": "87.66",
                "currency": "USD"})
        yield mock


TEMPLATES = {
    "debit": {**debit_body(), "roundId": "round-1", "roundClosed": False},
    "credit": {**debit_body(), "roundId": "round-1", "betRefId": "ref-0", "kind": "BONUS", "roundClosed": True},
    "rollback": {"playerId": "player-1", "refId": "rb-1", "originalRefId": "ref-0"},
}


@hypothesis_settings(max_examples=300, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), operation=st.sampled_from(sorted(TEMPLATES)), whole=st.booleans())
def test_any_signed_body_gets_a_documented_answer_with_the_error_shape(data, operation, whole):
    template = {**TEMPLATES[operation], "refId": f"ref-{data.draw(st.uuids()).hex[:12]}"}
    payload = data.draw(json_values) if whole else data.draw(mutated(template))
    raw = dumps(payload)

    answer = Client().post(f"/wallet/{operation}", data=raw, content_type="application/json", **signed_headers(raw))

    assert answer.status_code in DOCUMENTED, answer.content[:500]
    body = json.loads(answer.content)
    if answer.status_code == 201:
        assert body["status"] == "OK" and body["refId"] == payload["refId"]
    else:
        assert set(body) == {"status", "error"} and set(body["error"]) == {"code", "message", "details"}
        assert body["status"] == body["error"]["code"]
