"""A debit's hot statements in SQL, for PostgreSQL.

Through the ORM each of them was compiled anew per request: about a third of the hub's CPU per
debit (`bench/cost_bench.py`). Here each is fixed text; the two inserts (the key and the PENDING
row) go through `hub.db.insert(..., ignore_conflicts=True)`, so a new key or refId costs one
statement and no exception. They mean what the ORM code next to their callers means; that code
still runs on SQLite, and the API and service tests run both ways on PostgreSQL (the
`hot_statements` fixture).
"""

from typing import Any

from django.db import connection

COMPLETE_KEY = """
UPDATE wallet_idempotencykey SET status = 'COMPLETED', response_status = %s, response_body = %s WHERE id = %s
"""
SETTLE = """
UPDATE wallet_wallettransaction
SET status = %s, error_code = %s, balance_cents = %s, operator_tx_id = %s, response_status = %s, response_body = %s,
    settled_at = %s, processing_until = NULL
WHERE id = %s AND status = 'PENDING'
"""


def enabled() -> bool:
    return connection.vendor == "postgresql"


def complete_key(*, record_id: int, status: int, body: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(COMPLETE_KEY, [status, body, record_id])


def settle(tx_id: int, settlement: dict[str, Any]) -> bool:
    """Write the outcome of a PENDING transaction; False when someone settled it first."""
    with connection.cursor() as cursor:
        cursor.execute(SETTLE, [
            settlement["status"], settlement["error_code"], settlement["balance_cents"], settlement["operator_tx_id"],
            settlement["response_status"], settlement["response_body"], settlement["settled_at"], tx_id,
        ])
        return cursor.rowcount == 1

