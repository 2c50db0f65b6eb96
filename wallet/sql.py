"""A debit's hot statements in SQL, for PostgreSQL.

Through the ORM each of them was compiled anew per request: about a third of the hub's CPU per
debit (`bench/cost_bench.py`). Here each is fixed text; the two inserts (the key and the PENDING
row) go through `hub.db.insert_after` (the row only with a new key) or `hub.db.insert(...,
ignore_conflicts=True)`, so a new key with its refId costs one statement and no exception. They mean what the ORM code next to their callers means; that twin
is left over from SQLite (issue "One database, one implementation" removes it), and the API and
service tests run both ways (the `hot_statements` fixture).
"""

from typing import Any

from django.db import connection

from webhooks.outbox import OutboxInsert

COMPLETE_KEY = """
UPDATE wallet_idempotencykey SET status = 'COMPLETED', response_status = %s, response_body = %s WHERE id = %s
"""
SETTLE = """
UPDATE wallet_wallettransaction
SET status = %s, error_code = %s, balance_cents = %s, operator_tx_id = %s, response_status = %s, response_body = %s,
    settled_at = %s, processing_until = NULL
WHERE id = %s AND status = 'PENDING'
"""


# A debit's or credit's settlement, its stored answer and its RGS webhook in one statement: one round
# trip and no BEGIN/COMMIT instead of five. The answer and the webhook are written only if this
# statement settled the row (a concurrent retry or the resolver may have settled it first).
SETTLE_ANSWER_AND_ENQUEUE = """
WITH settled AS (
    UPDATE wallet_wallettransaction
    SET status = %(status)s, error_code = %(error_code)s, balance_cents = %(balance_cents)s,
        operator_tx_id = %(operator_tx_id)s, response_status = %(response_status)s, response_body = %(response_body)s,
        settled_at = %(settled_at)s, processing_until = NULL
    WHERE id = %(tx_id)s AND status = 'PENDING'
    RETURNING id
),
answered AS (
    UPDATE wallet_idempotencykey SET status = 'COMPLETED', response_status = %(response_status)s,
        response_body = %(response_body)s
    WHERE id = %(key_id)s AND EXISTS (SELECT 1 FROM settled)
),
message AS ({message})
SELECT id FROM message
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



def settle_answer_and_enqueue(tx_id: int, settlement: dict[str, Any], *, key_id: int, message: OutboxInsert) -> int | None:
    """Settle a PENDING transaction, keep its answer under the key and write its webhook; the message's
    id, or None (nothing written) when someone settled it first."""
    with connection.cursor() as cursor:
        cursor.execute(SETTLE_ANSWER_AND_ENQUEUE.format(message=message.sql(condition="settled")),
                       {**settlement, **message.params, "tx_id": tx_id, "key_id": key_id})
        row = cursor.fetchone()
    return row[0] if row else None
