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
from wallet.models import IdempotencyKey, WalletTransaction
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


def new_key(key: IdempotencyKey, *, with_row: WalletTransaction | None = None) -> bool:
    """Write a new key, and `with_row` (its request's PENDING row) only if the key was new, in one
    statement; whether the key was new (a row held back by its unique refId keeps no id)."""
    return insert(key, ignore_conflicts=True) if with_row is None else insert_after(key, with_row)[0]


def new_transaction(tx: WalletTransaction) -> bool:
    """Write a new PENDING transaction; False when its refId exists."""
    return insert(tx, ignore_conflicts=True)


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
