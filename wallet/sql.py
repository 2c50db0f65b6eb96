"""A debit's hot statements in SQL, for PostgreSQL.

Through the ORM each of them was compiled anew per request: about a third of the hub's CPU per
debit (`bench/cost_bench.py`). Here each is fixed text, and the two inserts take `ON CONFLICT DO
NOTHING`, so a new key or refId costs one statement and no exception. They mean what the ORM code
next to their callers means; that code still runs on SQLite, and the API and service tests run both
ways on PostgreSQL (the `hot_statements` fixture).
"""

import json
from datetime import datetime
from typing import Any

from django.db import connection

from wallet.models import WalletTransaction

INSERT_KEY = """
INSERT INTO wallet_idempotencykey (client_id, key, fingerprint, status, locked_until, response_body, created_at)
VALUES (%s, %s, %s, 'IN_FLIGHT', %s, '', %s)
ON CONFLICT ON CONSTRAINT idempotency_key_per_client DO NOTHING
RETURNING id
"""
COMPLETE_KEY = """
UPDATE wallet_idempotencykey SET status = 'COMPLETED', response_status = %s, response_body = %s WHERE id = %s
"""
INSERT_TRANSACTION = """
INSERT INTO wallet_wallettransaction
    (transaction_id, ref_id, type, player_id, amount_cents, currency, status, original_ref_id, is_tombstone, meta,
     operator_tx_id, error_code, response_body, processing_until, correlation_id, created_at)
VALUES (%s, %s, %s, %s, %s, %s, 'PENDING', %s, false, %s::jsonb, '', '', '', %s, %s, %s)
ON CONFLICT ON CONSTRAINT wallet_wallettransaction_ref_id_key DO NOTHING
RETURNING id
"""
SETTLE = """
UPDATE wallet_wallettransaction
SET status = %s, error_code = %s, balance_cents = %s, operator_tx_id = %s, response_status = %s, response_body = %s,
    settled_at = %s, processing_until = NULL
WHERE id = %s AND status = 'PENDING'
"""


def enabled() -> bool:
    return connection.vendor == "postgresql"


def _returned_id(sql: str, params: list[Any]) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def insert_key(*, client_id: str, key: str, fingerprint: str, locked_until: datetime, now: datetime) -> int | None:
    """The new key's id, or None when the client already used this key."""
    return _returned_id(INSERT_KEY, [client_id, key, fingerprint, locked_until, now])


def complete_key(*, record_id: int, status: int, body: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(COMPLETE_KEY, [status, body, record_id])


def insert_transaction(tx: WalletTransaction) -> bool:
    """Insert this new PENDING transaction (its id set on success); False when its refId exists."""
    tx.id = _returned_id(INSERT_TRANSACTION, [
        tx.transaction_id, tx.ref_id, tx.type, tx.player_id, tx.amount_cents, tx.currency, tx.original_ref_id,
        None if tx.meta is None else json.dumps(tx.meta), tx.processing_until, tx.correlation_id, tx.created_at,
    ])
    if tx.id is None:
        return False
    tx._state.adding = False  # as if loaded: a later save() updates this row
    return True


def settle(tx_id: int, settlement: dict[str, Any]) -> bool:
    """Write the outcome of a PENDING transaction; False when someone settled it first."""
    with connection.cursor() as cursor:
        cursor.execute(SETTLE, [
            settlement["status"], settlement["error_code"], settlement["balance_cents"], settlement["operator_tx_id"],
            settlement["response_status"], settlement["response_body"], settlement["settled_at"], tx_id,
        ])
        return cursor.rowcount == 1

