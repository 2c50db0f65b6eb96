"""Each of the wallet's hot statements writes what the ORM writes (`save()`, or the `update()` it stands for)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hub.testing import stored
from wallet import statements
from wallet.models import IdempotencyKey, WalletRound, WalletTransaction
from webhooks.models import OutboxMessage
from webhooks.outbox import outbox_enqueue, outbox_insert
from webhooks.tests.factories import DestinationFactory

pytestmark = pytest.mark.django_db
Status = WalletTransaction.Status


def key(name: str) -> IdempotencyKey:
    now = timezone.now()
    return IdempotencyKey(client_id="rgs", key=name, fingerprint="f" * 64, locked_until=now + timedelta(seconds=30),
                          created_at=now)


def pending(ref_id: str) -> WalletTransaction:
    return WalletTransaction(ref_id=ref_id, type=WalletTransaction.Type.DEBIT, player_id="p-1", amount_cents=150,
                             currency="EUR", meta={"game": "slots", "n": 1}, correlation_id="c-1",
                             created_at=timezone.now())


def test_a_new_key_and_its_pending_row_are_what_save_writes():
    fast_key, fast_row = key("k-1"), pending("r-1")
    orm_key, orm_row = key("k-2"), pending("r-2")
    orm_key.created_at, orm_row.created_at = fast_key.created_at, fast_row.created_at
    orm_key.locked_until = fast_key.locked_until

    assert statements.new_key(fast_key, with_row=fast_row) is True
    orm_key.save()
    orm_row.save()

    assert stored(IdempotencyKey, fast_key.pk, ignore=("id", "key")) == stored(IdempotencyKey, orm_key.pk, ignore=("id", "key"))
    assert stored(WalletTransaction, fast_row.pk, ignore=("id", "ref_id", "transaction_id")) == stored(
        WalletTransaction, orm_row.pk, ignore=("id", "ref_id", "transaction_id"))
    assert fast_row.transaction_id == WalletTransaction.objects.get(pk=fast_row.pk).transaction_id


def test_an_existing_key_writes_neither_it_nor_its_row():
    assert statements.new_key(key("k-1")) is True
    again, row = key("k-1"), pending("r-1")

    assert statements.new_key(again, with_row=row) is False
    assert (again.pk, row.pk, IdempotencyKey.objects.count(), WalletTransaction.objects.count()) == (None, None, 1, 0)


def test_a_new_transaction_is_what_save_writes_and_an_existing_ref_id_writes_nothing():
    fast, orm = pending("r-1"), pending("r-2")
    orm.created_at = fast.created_at

    assert statements.new_transaction(fast) is True
    orm.save()
    assert statements.new_transaction(pending("r-1")) is False

    ignore = ("id", "ref_id", "transaction_id")
    assert stored(WalletTransaction, fast.pk, ignore=ignore) == stored(WalletTransaction, orm.pk, ignore=ignore)
    assert WalletTransaction.objects.count() == 2


def test_a_call_in_a_round_is_what_save_writes_and_its_round_what_the_orm_would_make():
    fast_key, fast = key("k-1"), pending("r-1")
    orm = pending("r-2")
    fast.round_id = orm.round_id = "round-1"
    fast.closes_round = orm.closes_round = True
    orm.created_at = fast.created_at

    assert statements.new_key(fast_key, with_row=fast) is True
    orm.save()

    ignore = ("id", "ref_id", "transaction_id")
    assert stored(WalletTransaction, fast.pk, ignore=ignore) == stored(WalletTransaction, orm.pk, ignore=ignore)
    made = WalletRound.objects.get()
    assert stored(WalletRound, made.pk, ignore=("id",)) == {
        "round_id": "round-1", "player_id": "p-1", "currency": "EUR", "status": "CLOSED",
        "opened_at": fast.created_at, "last_call_at": fast.created_at, "closed_at": fast.created_at}


def test_a_closed_or_foreign_round_writes_no_row_and_touches_no_round():
    closing, opening = pending("r-1"), pending("r-2")
    closing.round_id, closing.closes_round, opening.round_id = "round-1", True, "round-2"
    assert statements.new_transaction(closing, round_call=True) is True
    assert statements.new_transaction(opening, round_call=True) is True
    before = [stored(WalletRound, pk) for pk in WalletRound.objects.order_by("id").values_list("pk", flat=True)]
    late, foreign = pending("r-3"), pending("r-4")
    late.round_id, foreign.round_id, foreign.player_id = "round-1", "round-2", "p-2"

    assert statements.new_transaction(late, round_call=True) is False
    assert statements.new_transaction(foreign, round_call=True) is False
    assert (late.pk, foreign.pk, WalletTransaction.objects.count()) == (None, None, 2)
    assert [stored(WalletRound, pk) for pk in WalletRound.objects.order_by("id").values_list("pk", flat=True)] == before


def settlement() -> dict:
    return {"status": Status.COMPLETED, "error_code": "", "balance_cents": 9850, "operator_tx_id": "op-1",
            "response_status": 200, "response_body": '{"status":"OK"}', "settled_at": timezone.now(),
            "processing_until": None}


def test_a_settlement_is_the_orms_update_of_a_pending_row_and_only_of_one():
    fast, orm = pending("r-1"), pending("r-2")
    fast.processing_until = orm.processing_until = timezone.now()
    fast.save()
    orm.save()
    outcome = settlement()

    assert statements.settle(fast.pk, outcome) is True
    WalletTransaction.objects.filter(pk=orm.pk, status=Status.PENDING).update(**outcome)
    assert statements.settle(fast.pk, {**outcome, "balance_cents": 1}) is False  # settled already

    ignore = ("id", "ref_id", "transaction_id", "created_at")
    assert stored(WalletTransaction, fast.pk, ignore=ignore) == stored(WalletTransaction, orm.pk, ignore=ignore)


def test_a_completed_key_is_the_orms_update():
    fast, orm = key("k-1"), key("k-2")
    fast.save()
    orm.save()

    statements.complete_key(record_id=fast.pk, status=201, body='{"status":"OK"}')
    IdempotencyKey.objects.filter(pk=orm.pk).update(status=IdempotencyKey.Status.COMPLETED, response_status=201,
                                                   response_body='{"status":"OK"}')

    ignore = ("id", "key", "created_at", "locked_until")
    assert stored(IdempotencyKey, fast.pk, ignore=ignore) == stored(IdempotencyKey, orm.pk, ignore=ignore)


def test_settle_answer_and_enqueue_writes_what_the_three_orm_writes_do_or_nothing():
    DestinationFactory(name="rgs")
    fast_key, orm_key, fast, orm = key("k-1"), key("k-2"), pending("r-1"), pending("r-2")
    for row in (fast_key, orm_key, fast, orm):
        row.save()
    outcome = settlement()
    webhook = {"destination": "rgs", "event_type": "wallet.transaction.completed", "data": {"refId": "r"},
               "ordering_key": "player:p-1", "correlation_id": "c-1"}

    message_id = statements.settle_answer_and_enqueue(fast.pk, outcome, key_id=fast_key.pk,
                                                      message=outbox_insert(**webhook))
    WalletTransaction.objects.filter(pk=orm.pk, status=Status.PENDING).update(**outcome)
    IdempotencyKey.objects.filter(pk=orm_key.pk).update(status=IdempotencyKey.Status.COMPLETED,
                                                        response_status=outcome["response_status"],
                                                        response_body=outcome["response_body"])
    orm_message = outbox_enqueue(**webhook)
    again = statements.settle_answer_and_enqueue(fast.pk, outcome, key_id=fast_key.pk, message=outbox_insert(**webhook))

    ignore = ("id", "ref_id", "transaction_id", "created_at", "key", "locked_until")
    assert stored(WalletTransaction, fast.pk, ignore=ignore) == stored(WalletTransaction, orm.pk, ignore=ignore)
    assert stored(IdempotencyKey, fast_key.pk, ignore=ignore) == stored(IdempotencyKey, orm_key.pk, ignore=ignore)
    ignore = ("id", "event_id", "created_at", "next_attempt_at", "occurred_at")
    assert stored(OutboxMessage, message_id, ignore=ignore) == stored(OutboxMessage, orm_message.id, ignore=ignore)
    assert (again, OutboxMessage.objects.count()) == (None, 2)  # settled already: no second webhook
