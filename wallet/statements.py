"""A wallet request's hot statements: the key and its PENDING row, the settlement, the answer under the
key. The only SQL that names the wallet's tables; built with psycopg.sql from the models' names and
choices, each text once per process.

Through the ORM each was compiled anew per request: about a third of the hub's CPU per debit
(`bench/cost_bench.py`). A new key with its PENDING row is one statement and no exception, and a
debit's settlement, answer and webhook another (`settle_answer_and_enqueue`): two round trips per
debit. `wallet/tests/test_statements.py` compares what each writes with what the ORM writes.
"""

from functools import cache
from typing import Any

from django.db import connection
from psycopg import sql

from hub.db import column, insert, insert_after, statement_text, table
from wallet.models import IdempotencyKey, WalletRound, WalletTransaction
from webhooks.outbox import OutboxInsert, outbox_part

# A settlement's columns: `settle`'s dict has exactly these keys.
SETTLED_FIELDS = ("status", "error_code", "balance_cents", "operator_tx_id", "response_status", "response_body",
                  "settled_at", "processing_until")


def _settle() -> sql.Composable:
    """UPDATE the PENDING transaction `%(tx_id)s` with the settlement's fields, RETURNING id."""
    assignments = sql.SQL(", ").join(sql.SQL("{} = {}").format(column(WalletTransaction, name), sql.Placeholder(name))
                                     for name in SETTLED_FIELDS)
    return sql.SQL("UPDATE {table} SET {assignments} WHERE id = %(tx_id)s AND {status} = {pending} RETURNING id").format(
        table=table(WalletTransaction), assignments=assignments, status=column(WalletTransaction, "status"),
        pending=sql.Literal(WalletTransaction.Status.PENDING.value))


def _complete_key(condition: sql.Composable) -> sql.Composable:
    return sql.SQL("UPDATE {table} SET {status} = {completed}, {response_status} = %(response_status)s, "
                   "{response_body} = %(response_body)s WHERE id = %(key_id)s {condition}").format(
        table=table(IdempotencyKey), status=column(IdempotencyKey, "status"),
        completed=sql.Literal(IdempotencyKey.Status.COMPLETED.value),
        response_status=column(IdempotencyKey, "response_status"),
        response_body=column(IdempotencyKey, "response_body"), condition=condition)


@cache
def _complete_key_text() -> str:
    return statement_text(_complete_key(sql.SQL("")))


@cache
def _settle_text() -> str:
    return statement_text(_settle())


# A debit's or credit's settlement, its stored answer and its RGS webhook in one statement: one round
# trip and no BEGIN/COMMIT instead of five. The answer and the webhook are written only if this
# statement settled the row (a concurrent retry or the resolver may have settled it first).
@cache
def _settle_answer_and_enqueue_text() -> str:
    return statement_text(sql.SQL("WITH settled AS ({settle}), answered AS ({answer}), message AS ({message}) "
                                  "SELECT id FROM message").format(
        settle=_settle(), answer=_complete_key(sql.SQL("AND EXISTS (SELECT 1 FROM settled)")),
        message=outbox_part(after="settled")))


# A call in a round opens the round or joins it: an upsert that locks the round's row until the call's
# PENDING row is written beside it, so a call and the round's closing are serialized. It returns no row
# (and the call's row is not written) when the round is closed or another player's or currency's, or when
# the call's refId exists (a retry must not touch the round again: its first attempt did).
@cache
def _round_gate(after_key: bool) -> str:
    rounds, transactions = table(WalletRound), table(WalletTransaction)
    status = column(WalletRound, "status")
    return statement_text(sql.SQL(
        "INSERT INTO {rounds} AS r ({round_id}, {player_id}, {currency}, {status}, {opened_at}, {last_call_at}, "
        "{closed_at}) SELECT %(round_id)s, %(round_player_id)s, %(round_currency)s, %(round_status)s, %(round_now)s, "
        "%(round_now)s, %(round_closed_at)s {source} WHERE NOT EXISTS (SELECT 1 FROM {transactions} WHERE {ref_id} = "
        "%(round_ref_id)s) ON CONFLICT ({round_id}) DO UPDATE SET {last_call_at} = EXCLUDED.{last_call_at}, "
        "{status} = EXCLUDED.{status}, {closed_at} = EXCLUDED.{closed_at} WHERE r.{status} = {open} AND "
        "r.{player_id} = EXCLUDED.{player_id} AND r.{currency} = EXCLUDED.{currency} RETURNING r.id").format(
        rounds=rounds, transactions=transactions, status=status, source=sql.SQL("FROM row0" if after_key else ""),
        ref_id=column(WalletTransaction, "ref_id"), open=sql.Literal(WalletRound.Status.OPEN.value),
        **{name: column(WalletRound, name) for name in ("round_id", "player_id", "currency", "opened_at",
                                                         "last_call_at", "closed_at")}))


def _round_params(tx: WalletTransaction) -> dict[str, Any]:
    closing = tx.closes_round
    closed = WalletRound.Status.CLOSED if closing else WalletRound.Status.OPEN
    return {"round_id": tx.round_id, "round_player_id": tx.player_id, "round_currency": tx.currency,
            "round_status": closed.value, "round_now": tx.created_at, "round_closed_at": tx.created_at if closing
            else None, "round_ref_id": tx.ref_id}


def new_key(key: IdempotencyKey, *, with_row: WalletTransaction | None = None) -> bool:
    """Write a new key, and `with_row` (its request's PENDING row) only if the key was new, in one
    statement; whether the key was new (a row held back by its unique refId, or by its round, keeps no id)."""
    if with_row is None:
        return insert(key, ignore_conflicts=True)
    if not with_row.round_id:
        return insert_after(key, with_row)[0]
    return insert_after(key, with_row, gate=_round_gate(after_key=True),
                        gate_params=_round_params(with_row))[0]


def new_transaction(tx: WalletTransaction, *, round_call: bool = False) -> bool:
    """Write a new PENDING transaction, and as a `round_call` open, join or close its round; False when
    its refId exists, or its round refused it. (A rollback shows on its debit's round and touches nothing.)"""
    if not (round_call and tx.round_id):
        return insert(tx, ignore_conflicts=True)
    return insert_after(None, tx, gate=_round_gate(after_key=False),
                        gate_params=_round_params(tx))[1]


def complete_key(*, record_id: int, status: int, body: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_complete_key_text(), {"response_status": status, "response_body": body, "key_id": record_id})


def settle(tx_id: int, settlement: dict[str, Any]) -> bool:
    """Write the outcome of a PENDING transaction; False when someone settled it first."""
    with connection.cursor() as cursor:
        cursor.execute(_settle_text(), {**settlement, "tx_id": tx_id})
        return cursor.rowcount == 1


def settle_answer_and_enqueue(tx_id: int, settlement: dict[str, Any], *, key_id: int, message: OutboxInsert) -> int | None:
    """Settle a PENDING transaction, keep its answer under the key and write its webhook; the message's
    id, or None (nothing written) when someone settled it first."""
    with connection.cursor() as cursor:
        cursor.execute(_settle_answer_and_enqueue_text(), {**settlement, **message.params, "tx_id": tx_id,
                                                           "key_id": key_id})
        row = cursor.fetchone()
    return row[0] if row else None
