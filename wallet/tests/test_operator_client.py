"""The Operator client's retry policy, with the Operator mocked at the transport seam."""

import pytest
from prometheus_client import REGISTRY

from wallet.operator_client import OperatorUnavailable, operator_wallet_call

WITHDRAW = "http://operator.test/api/v1/wallet/withdraw"
APPROVED = {"transaction_id": "ref-1", "operator_tx_id": "op-1", "status": "approved", "balance": "87.66", "currency": "USD"}


def retries(reason: str) -> float:
    return REGISTRY.get_sample_value("hub_operator_retries_total", {"operation": "withdraw", "reason": reason}) or 0.0


@pytest.mark.django_db
def test_each_retry_is_counted_and_the_answer_after_them_returned(operator, settings):
    settings.OPERATOR_MAX_ATTEMPTS = 3
    for status in (503, 502):
        operator.post(WITHDRAW, status=status)
    operator.post(WITHDRAW, json=APPROVED)
    before = retries("HTTP 503"), retries("HTTP 502")

    answer = operator_wallet_call("withdraw", {"transaction_id": "ref-1"})

    assert (answer.status_code, answer.body["operator_tx_id"], len(operator.calls)) == (200, "op-1", 3)
    assert (retries("HTTP 503") - before[0], retries("HTTP 502") - before[1]) == (1, 1)


@pytest.mark.django_db
@pytest.mark.parametrize("attempts", [1, 2, 4])
def test_the_policy_follows_the_settings_of_the_moment(operator, settings, attempts):
    settings.OPERATOR_MAX_ATTEMPTS = attempts
    settings.OPERATOR_RETRY_DEADLINE_SECONDS = 30
    operator.post(WITHDRAW, status=503)

    with pytest.raises(OperatorUnavailable):
        operator_wallet_call("withdraw", {"transaction_id": "ref-1"})

    assert len(operator.calls) == attempts
