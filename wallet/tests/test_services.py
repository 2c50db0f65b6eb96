"""The wallet services called directly: typed requests in, a WalletResult or a wallet error out."""

import json

import pytest

from wallet import errors as wallet_errors
from wallet.answers import Answer
from wallet.models import WalletTransaction
from wallet.services import wallet_credit, wallet_debit, wallet_rollback
from wallet.tests.factories import WalletTransactionFactory, money_request, rollback_request
from webhooks.models import OutboxMessage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("operator")]
Status = WalletTransaction.Status
OPERATOR = "http://operator.test/api/v1/wallet"  # the conftest fixture's base URL


def test_a_debit_settles_stores_its_answer_with_the_settlement_and_enqueues_one_webhook(operator):
    operator.post(f"{OPERATOR}/withdraw", json={"status": "approved", "balance": "87.66", "operator_tx_id": "op-1"})
    stored: list[Answer] = []

    result = wallet_debit(request=money_request(), on_settled=stored.append)

    tx = result.transaction
    assert (tx.status, tx.balance_cents, tx.operator_tx_id, result.replayed, result.answer_stored) == (
        Status.COMPLETED, 8766, "op-1", False, True)
    assert stored == [Answer(201, tx.response_body)]
    assert json.loads(tx.response_body)["balanceCents"] == 8766
    assert OutboxMessage.objects.get().event_type == "wallet.transaction.completed"


def test_the_same_refid_again_is_the_first_settlement_replayed_without_an_operator_call(operator):
    first = WalletTransactionFactory(ref_id="ref-1", response_status=201, response_body='{"status":"OK"}')

    result = wallet_debit(request=money_request(ref_id="ref-1"))

    assert (result.transaction.id, result.replayed, result.answer_stored) == (first.id, True, False)
    assert len(operator.calls) == 0


@pytest.mark.parametrize(("request_", "error"), [
    pytest.param(money_request(ref_id="ref-1", amount_minor=1), wallet_errors.DuplicateRefId, id="other-amount"),
    pytest.param(money_request(ref_id="ref-1", currency="XYZ"), wallet_errors.UnsupportedCurrency, id="currency"),
])
def test_refusals_are_wallet_errors_and_call_nobody(operator, request_, error):
    WalletTransactionFactory(ref_id="ref-1")

    with pytest.raises(error):
        wallet_credit(request=request_)
    assert (len(operator.calls), WalletTransaction.objects.count(), OutboxMessage.objects.count()) == (0, 1, 0)


def test_an_operator_that_does_not_answer_leaves_the_debit_pending_and_unleased(operator):
    operator.post(f"{OPERATOR}/withdraw", status=503)

    with pytest.raises(wallet_errors.OperatorNotAnswering) as refused:
        wallet_debit(request=money_request())

    assert (refused.value.status_code, "Retry-After" in refused.value.headers) == (503, True)
    tx = WalletTransaction.objects.get()
    assert (tx.status, tx.processing_until, OutboxMessage.objects.count()) == (Status.PENDING, None, 0)


def test_a_rollback_of_a_debit_never_seen_leaves_a_tombstone_that_refuses_the_debit_later(operator):
    result = wallet_rollback(request=rollback_request(original_ref_id="late-bet"))

    assert (result.transaction.status, result.transaction.error_code) == (Status.FAILED, "ORIGINAL_NOT_FOUND")
    with pytest.raises(wallet_errors.RefIdRolledBack):
        wallet_debit(request=money_request(ref_id="late-bet"))
    assert len(operator.calls) == 0
