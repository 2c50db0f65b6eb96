"""The Operator client's retry policy, with the Operator mocked at the transport seam."""

import time

import pytest
import responses
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


@pytest.mark.django_db
def test_the_deadline_counts_the_first_attempt_and_the_wait_the_operator_asks_for(operator, settings):
    """A first attempt of 0.6 s, then 429 Retry-After 1: waiting would end at 1.6 s, past the 1.5 s
    budget, so there is no second attempt (there would be if the clock started after the first)."""
    settings.OPERATOR_MAX_ATTEMPTS, settings.OPERATOR_RETRY_DEADLINE_SECONDS = 5, 1.5

    def slow_429(request):
        time.sleep(0.6)
        return 429, {"Retry-After": "1"}, ""

    operator.add_callback(responses.POST, WITHDRAW, callback=slow_429)

    with pytest.raises(OperatorUnavailable) as unavailable:
        operator_wallet_call("withdraw", {"transaction_id": "ref-1"})

    assert (len(operator.calls), str(unavailable.value), unavailable.value.retry_after_seconds) == (1, "HTTP 429", 1)


@pytest.mark.django_db
def test_a_retry_waits_the_retry_after_the_operator_asks_for(operator, settings):
    settings.OPERATOR_MAX_ATTEMPTS, settings.OPERATOR_RETRY_DEADLINE_SECONDS = 3, 5
    operator.post(WITHDRAW, status=429, headers={"Retry-After": "1"})
    operator.post(WITHDRAW, json=APPROVED)
    started = time.monotonic()

    answer = operator_wallet_call("withdraw", {"transaction_id": "ref-1"})

    assert (answer.status_code, len(operator.calls), time.monotonic() - started >= 1) == (200, 2, True)
