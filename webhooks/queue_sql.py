"""The outbox's hot statements in SQL, for PostgreSQL: enqueue, claim a batch, record its deliveries.

The ORM built these queries anew for every batch: compiling them was about half of the worker's CPU
for a message delivered on its own (`bench/cost_bench.py`), which is how a webhook goes out at low
load. Here each is one statement with fixed text, so a claim or a batch's record is one round trip
in autocommit and no query compilation. They mean exactly what the ORM version in `webhooks.claims`
means (that version runs while a circuit is open; the outbox and circuit tests run both ways, the
`hot_statements` fixture).
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

from webhooks.models import Destination, OutboxMessage

ModelT = TypeVar("ModelT", bound=Model)

# A row is due when it is PENDING, due, not leased, its destination is enabled and no earlier
# message of its ordering key is still PENDING. The row lock is held only by this statement: the
# lease it stamps is what keeps other claimants off afterwards. While any circuit is open nothing is
# claimed here (the caller gates by circuit, `webhooks.circuit`); the first column says so, on a row of
# its own when nothing was claimed: one statement instead of a check and a claim.
CLAIM = """
WITH open_circuit AS (
    SELECT 1 FROM webhooks_destinationcircuit WHERE open_until IS NOT NULL LIMIT 1
),
due AS (
    SELECT m.id
    FROM webhooks_outboxmessage m
    JOIN webhooks_destination d ON d.id = m.destination_id AND d.enabled
    WHERE m.status = 'PENDING' AND m.next_attempt_at <= %(now)s
      AND (m.leased_until IS NULL OR m.leased_until < %(now)s)
      AND (m.ordering_key = '' OR NOT EXISTS (
          SELECT 1 FROM webhooks_outboxmessage earlier
          WHERE earlier.ordering_key = m.ordering_key AND earlier.ordering_key <> '' AND earlier.id < m.id
            AND earlier.status = 'PENDING'))
      AND NOT EXISTS (SELECT 1 FROM open_circuit)
      {only}
    ORDER BY m.next_attempt_at, m.id
    LIMIT %(limit)s
    FOR UPDATE OF m SKIP LOCKED
),
claimed AS (
    UPDATE webhooks_outboxmessage m SET leased_until = %(leased_until)s, lease_token = %(token)s
    FROM due, webhooks_destination d
    WHERE m.id = due.id AND d.id = m.destination_id
    RETURNING {columns}
)
SELECT EXISTS (SELECT 1 FROM open_circuit), claimed.* FROM (VALUES (1)) AS one LEFT JOIN claimed ON true
"""
ONLY_IDS = "AND m.id = ANY(%(message_ids)s::bigint[])"

# Every attempt of the batch, the delivered messages, the circuits their successes close, and the
# next PENDING message of each ordering key they unblock, one index probe per key (a prepared statement's
# generic plan keeps that shape). The final SELECT sees the table as it was before this statement's
# updates, so the messages just delivered are left out by id.
RECORD_DELIVERED = """
WITH attempt AS (
    INSERT INTO webhooks_deliveryattempt
        (message_id, destination_id, attempted_at, duration_ms, status_code, response_excerpt, error, succeeded)
    SELECT message_id, destination_id, %(now)s, duration_ms, status_code, response_excerpt, error, succeeded
    FROM unnest(%(a_message)s::bigint[], %(a_destination)s::bigint[], %(a_duration)s::integer[],
                %(a_status)s::smallint[], %(a_excerpt)s::text[], %(a_error)s::text[], %(a_succeeded)s::boolean[])
        AS a(message_id, destination_id, duration_ms, status_code, response_excerpt, error, succeeded)
),
delivered AS (
    UPDATE webhooks_outboxmessage
    SET status = 'DELIVERED', delivered_at = %(now)s, attempts = attempts + 1, last_error = '',
        leased_until = NULL, lease_token = ''
    WHERE id = ANY(%(delivered)s::bigint[]) AND status = 'PENDING'
),
closed AS (
    UPDATE webhooks_destinationcircuit SET open_until = NULL, probe_until = NULL, closed_at = %(now)s
    WHERE destination_id = ANY(%(closed_destinations)s::bigint[]) AND open_until IS NOT NULL
)
SELECT next.id FROM unnest(%(ordering_keys)s::text[]) AS k(ordering_key)
CROSS JOIN LATERAL (
    SELECT id FROM webhooks_outboxmessage
    WHERE ordering_key = k.ordering_key AND ordering_key <> '' AND status = 'PENDING'
      AND NOT id = ANY(%(delivered)s::bigint[])
    ORDER BY id LIMIT 1
) AS next
"""
# The destination's id is looked up inside the INSERT: an unknown name fails the caller's
# transaction (destination_id NOT NULL); setup_destinations creates the names used.
ENQUEUE = """
INSERT INTO webhooks_outboxmessage
    (event_id, event_type, destination_id, path, payload, occurred_at, ordering_key, correlation_id, status, attempts,
     next_attempt_at, lease_token, last_error, created_at)
VALUES (%s, %s, (SELECT id FROM webhooks_destination WHERE name = %s), %s, %s::jsonb, %s, %s, %s, 'PENDING', 0,
        %s, '', '', %s)
RETURNING id
"""
# ENQUEUE as part of a caller's statement: a data-modifying CTE of it, written only when the caller's
# CTE `{condition}` returned a row (wallet/sql.py settles a debit, keeps its answer and writes its
# webhook in one statement).
ENQUEUE_IF = """
INSERT INTO webhooks_outboxmessage
    (event_id, event_type, destination_id, path, payload, occurred_at, ordering_key, correlation_id, status, attempts,
     next_attempt_at, lease_token, last_error, created_at)
SELECT %(m_event_id)s, %(m_event_type)s, (SELECT id FROM webhooks_destination WHERE name = %(m_destination)s), %(m_path)s,
       %(m_payload)s::jsonb, %(m_occurred_at)s, %(m_ordering_key)s, %(m_correlation_id)s, 'PENDING', 0, %(m_now)s, '',
       '', %(m_now)s
WHERE EXISTS (SELECT 1 FROM {condition})
RETURNING id
"""


@dataclass(frozen=True)
class Attempt:
    message_id: int
    destination_id: int
    duration_ms: int
    status_code: int | None
    excerpt: str
    error: str
    succeeded: bool


def _instance(model: type[ModelT], values: Sequence[Any]) -> ModelT:
    """A model instance from its columns in `concrete_fields` order, converted as the ORM converts them
    (JSON text parsed, encrypted text decrypted). Columns are named in the SQL, never `*`: a prepared
    statement's result must not change shape when a migration adds a column."""
    converted = [
        field.from_db_value(value, None, connection) if value is not None and hasattr(field, "from_db_value") else value
        for field, value in zip(model._meta.concrete_fields, values, strict=True)
    ]
    return model.from_db(connection.alias, (), converted)  # every column given: no field names needed


def enabled() -> bool:
    return connection.vendor == "postgresql"


def plan_per_call() -> None:
    """Have this connection plan the claim and the record for each call. A delivering process keeps its
    connection, so after five runs its prepared statements switched to PostgreSQL's generic plan, and
    with the outbox's statistics stale (a table that fills and empties) that plan walked the index
    entries of rows long delivered: 18-20 ms of PostgreSQL CPU per debit at half load with the
    dispatcher, and 0.9 ms against 0.05 ms for a claim by id in the cost bench's database (make bench,
    EXPLAIN). Planning costs far less, and it is paid once per batch. Only delivering processes do
    this: on the web's connections it cost the debit 0.2 ms."""
    connection.ensure_connection()
    raw = connection.connection
    if getattr(connection, "_planned_per_call", None) is not raw:
        with connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_custom_plan")
        connection._planned_per_call = raw  # type: ignore[attr-defined]


def enqueue(*, event_id: str, event_type: str, destination: str, path: str, data: dict, ordering_key: str,
            correlation_id: str, occurred_at: datetime, now: datetime) -> int:
    with connection.cursor() as cursor:
        cursor.execute(ENQUEUE, [event_id, event_type, destination, path, json.dumps(data), occurred_at, ordering_key,
                                 correlation_id, now, now])
        return cursor.fetchone()[0]


def enqueue_if_params(*, event_id: str, event_type: str, destination: str, path: str, data: dict, ordering_key: str,
                      correlation_id: str, occurred_at: datetime, now: datetime) -> dict[str, Any]:
    """ENQUEUE_IF's parameters (prefixed `m_`, to sit beside the caller's own)."""
    return {"m_event_id": event_id, "m_event_type": event_type, "m_destination": destination, "m_path": path,
            "m_payload": json.dumps(data), "m_occurred_at": occurred_at, "m_ordering_key": ordering_key,
            "m_correlation_id": correlation_id, "m_now": now}


def claim(*, now: datetime, leased_until: datetime, token: str, limit: int,
          message_ids: Sequence[int] | None = None) -> list[OutboxMessage] | None:
    """Lease up to `limit` due messages, with their destinations loaded; None, with nothing leased,
    while a circuit is open."""
    params: dict[str, Any] = {"now": now, "leased_until": leased_until, "token": token, "limit": limit,
                              "message_ids": list(message_ids or ())}
    message_fields, destination_fields = OutboxMessage._meta.concrete_fields, Destination._meta.concrete_fields
    columns = ", ".join([f"m.{field.column}" for field in message_fields]
                        + [f"d.{field.column} AS d_{field.column}" for field in destination_fields])
    with connection.cursor() as cursor:
        cursor.execute(CLAIM.format(only=ONLY_IDS if message_ids is not None else "", columns=columns), params)
        rows = cursor.fetchall()
    if rows[0][0]:
        return None
    messages, destinations = [], {}
    for row in rows:
        if row[1] is None:  # the row that says nothing was claimed
            continue
        message = _instance(OutboxMessage, row[1:1 + len(message_fields)])
        if message.destination_id not in destinations:  # one instance per destination: its secrets decrypted once
            destinations[message.destination_id] = _instance(Destination, row[1 + len(message_fields):])
        message.destination = destinations[message.destination_id]
        messages.append(message)
    return messages


def record_delivered(*, now: datetime, delivered: Sequence[OutboxMessage], attempts: Sequence[Attempt] = ()) -> list[int]:
    """Insert `attempts`, mark `delivered` DELIVERED and close their destinations' open circuits, in one
    statement. Returns the first PENDING message of each ordering key they held up."""
    params: dict[str, Any] = {
        "now": now,
        "a_message": [a.message_id for a in attempts], "a_destination": [a.destination_id for a in attempts],
        "a_duration": [a.duration_ms for a in attempts], "a_status": [a.status_code for a in attempts],
        "a_excerpt": [a.excerpt for a in attempts], "a_error": [a.error for a in attempts],
        "a_succeeded": [a.succeeded for a in attempts],
        "delivered": [message.id for message in delivered],
        "closed_destinations": list({message.destination_id for message in delivered}),
        "ordering_keys": list({message.ordering_key for message in delivered if message.ordering_key}),
    }
    with connection.cursor() as cursor:
        cursor.execute(RECORD_DELIVERED, params)
        return [head for (head,) in cursor.fetchall()]
