"""The outbox's hot statements: enqueue, claim a batch, record its deliveries. The only SQL that names
the outbox's tables; built with psycopg.sql from the models' names and choices.

The ORM built these queries anew for every batch: compiling them was about half of the worker's CPU
for a message delivered on its own (`bench/cost_bench.py`), which is how a webhook goes out at low
load. Here each is one statement whose text is built once per process, so a claim or a batch's record
is one round trip in autocommit and no query compilation. `webhooks/tests/test_statements.py`
compares what each writes with what the ORM's `save()` writes.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model
from psycopg import sql

from hub.db import statement_text, table
from webhooks.models import DeliveryAttempt, Destination, DestinationCircuit, OutboxMessage

ModelT = TypeVar("ModelT", bound=Model)
PENDING, DELIVERED = sql.Literal(OutboxMessage.Status.PENDING.value), sql.Literal(OutboxMessage.Status.DELIVERED.value)
NAMES = {"messages": table(OutboxMessage), "destinations": table(Destination), "circuits": table(DestinationCircuit),
         "attempts": table(DeliveryAttempt), "pending": PENDING, "delivered": DELIVERED}

# A row is due when it is PENDING, due, not leased, its destination is enabled and no earlier
# message of its ordering key is still PENDING. The row lock is held only by this statement (or the
# caller's transaction): the lease it stamps is what keeps other claimants off afterwards.
# Without `gated` nothing is claimed while any circuit is open, and the first column says so, on a row
# of its own when nothing was claimed: one statement instead of a check and a claim in the usual case.
# `gated`: the caller has asked the circuits (`webhooks.circuit.circuit_gate`, in its transaction) and
# passes the destinations to leave out, or the one destination whose probe it holds.
CLAIM = """
WITH open_circuit AS (
    SELECT 1 FROM {circuits} WHERE open_until IS NOT NULL LIMIT 1
),
due AS (
    SELECT m.id
    FROM {messages} m
    JOIN {destinations} d ON d.id = m.destination_id AND d.enabled
    WHERE m.status = {pending} AND m.next_attempt_at <= %(now)s
      AND (m.leased_until IS NULL OR m.leased_until < %(now)s)
      AND (m.ordering_key = '' OR NOT EXISTS (
          SELECT 1 FROM {messages} earlier
          WHERE earlier.ordering_key = m.ordering_key AND earlier.ordering_key <> '' AND earlier.id < m.id
            AND earlier.status = {pending}))
      AND (%(gated)s OR NOT EXISTS (SELECT 1 FROM open_circuit))
      AND NOT m.destination_id = ANY(%(excluded)s::bigint[])
      AND (%(only_destination)s::bigint IS NULL OR m.destination_id = %(only_destination)s::bigint)
      {only}
    ORDER BY m.next_attempt_at, m.id
    LIMIT %(limit)s
    FOR UPDATE OF m SKIP LOCKED
),
claimed AS (
    UPDATE {messages} m SET leased_until = %(leased_until)s, lease_token = %(token)s
    FROM due, {destinations} d
    WHERE m.id = due.id AND d.id = m.destination_id
    RETURNING {columns}
)
SELECT NOT %(gated)s AND EXISTS (SELECT 1 FROM open_circuit), claimed.*
FROM (VALUES (1)) AS one LEFT JOIN claimed ON true
"""
ONLY_IDS = "AND m.id = ANY(%(message_ids)s::bigint[])"

# Every attempt of the batch, the delivered messages, the circuits their successes close, and the
# next PENDING message of each ordering key they unblock, one index probe per key (a prepared statement's
# generic plan keeps that shape). The final SELECT sees the table as it was before this statement's
# updates, so the messages just delivered are left out by id.
RECORD_DELIVERED = """
WITH attempt AS (
    INSERT INTO {attempts}
        (message_id, destination_id, attempted_at, duration_ms, status_code, response_excerpt, error, succeeded)
    SELECT message_id, destination_id, %(now)s, duration_ms, status_code, response_excerpt, error, succeeded
    FROM unnest(%(a_message)s::bigint[], %(a_destination)s::bigint[], %(a_duration)s::integer[],
                %(a_status)s::smallint[], %(a_excerpt)s::text[], %(a_error)s::text[], %(a_succeeded)s::boolean[])
        AS a(message_id, destination_id, duration_ms, status_code, response_excerpt, error, succeeded)
),
delivered AS (
    UPDATE {messages}
    SET status = {delivered}, delivered_at = %(now)s, attempts = attempts + 1, last_error = '',
        leased_until = NULL, lease_token = ''
    WHERE id = ANY(%(delivered_ids)s::bigint[]) AND status = {pending}
),
closed AS (
    UPDATE {circuits} SET open_until = NULL, probe_until = NULL, closed_at = %(now)s
    WHERE destination_id = ANY(%(closed_destinations)s::bigint[]) AND open_until IS NOT NULL
)
SELECT next.id FROM unnest(%(ordering_keys)s::text[]) AS k(ordering_key)
CROSS JOIN LATERAL (
    SELECT id FROM {messages}
    WHERE ordering_key = k.ordering_key AND ordering_key <> '' AND status = {pending}
      AND NOT id = ANY(%(delivered_ids)s::bigint[])
    ORDER BY id LIMIT 1
) AS next
"""
# A new message, as an INSERT … RETURNING id; with a condition, a data-modifying CTE of the caller's
# statement, written only when the caller's CTE of that name returned a row. The destination's id is
# looked up inside the INSERT: an unknown name fails the caller's statement (destination_id NOT NULL);
# setup_destinations creates the names used. Parameters are prefixed `m_`, to sit beside the caller's.
ENQUEUE = """
INSERT INTO {messages}
    (event_id, event_type, destination_id, path, payload, occurred_at, ordering_key, correlation_id, status, attempts,
     next_attempt_at, lease_token, last_error, created_at)
SELECT %(m_event_id)s, %(m_event_type)s, (SELECT id FROM {destinations} WHERE name = %(m_destination)s), %(m_path)s,
       %(m_payload)s::jsonb, %(m_occurred_at)s, %(m_ordering_key)s, %(m_correlation_id)s, {pending}, 0, %(m_now)s, '',
       '', %(m_now)s
{condition}
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


def _columns(alias: str, model: type[Model], prefix: str = "") -> sql.Composable:
    """Every column of `model`, in `concrete_fields` order, of the table aliased `alias`."""
    return sql.SQL(", ").join([
        sql.SQL("{}.{} AS {}").format(sql.Identifier(alias), sql.Identifier(str(field.column)),
                                      sql.Identifier(prefix + str(field.column)))
        for field in model._meta.concrete_fields])


@cache
def _claim_text(only_ids: bool) -> str:
    return statement_text(sql.SQL(CLAIM).format(
        only=sql.SQL(ONLY_IDS if only_ids else ""),
        columns=sql.SQL(", ").join([_columns("m", OutboxMessage), _columns("d", Destination, "d_")]), **NAMES))


@cache
def _record_delivered_text() -> str:
    return statement_text(sql.SQL(RECORD_DELIVERED).format(**NAMES))


def enqueue_part(condition: str = "") -> sql.Composable:
    """ENQUEUE, or as a CTE's body written only when the caller's CTE `condition` returned a row."""
    where = sql.SQL("WHERE EXISTS (SELECT 1 FROM {})").format(sql.Identifier(condition)) if condition else sql.SQL("")
    return sql.SQL(ENQUEUE).format(condition=where, **NAMES)


@cache
def _enqueue_text() -> str:
    return statement_text(enqueue_part())


def enqueue_params(*, event_id: str, event_type: str, destination: str, path: str, data: dict, ordering_key: str,
                   correlation_id: str, occurred_at: datetime, now: datetime) -> dict[str, Any]:
    """ENQUEUE's parameters (prefixed `m_`, to sit beside the caller's own)."""
    return {"m_event_id": event_id, "m_event_type": event_type, "m_destination": destination, "m_path": path,
            "m_payload": json.dumps(data), "m_occurred_at": occurred_at, "m_ordering_key": ordering_key,
            "m_correlation_id": correlation_id, "m_now": now}


def enqueue(params: dict[str, Any]) -> int:
    """Write a new message (`enqueue_params`); its id."""
    with connection.cursor() as cursor:
        cursor.execute(_enqueue_text(), params)
        return cursor.fetchone()[0]


def claim(*, now: datetime, leased_until: datetime, token: str, limit: int, message_ids: Sequence[int] | None = None,
          gated: bool = False, excluded: Sequence[int] = (), only_destination: int | None = None
          ) -> list[OutboxMessage] | None:
    """Lease up to `limit` due messages, with their destinations loaded; None, with nothing leased,
    while a circuit is open, unless `gated` (see CLAIM)."""
    params: dict[str, Any] = {"now": now, "leased_until": leased_until, "token": token, "limit": limit,
                              "message_ids": list(message_ids or ()), "gated": gated, "excluded": list(excluded),
                              "only_destination": only_destination}
    with connection.cursor() as cursor:
        cursor.execute(_claim_text(message_ids is not None), params)
        rows = cursor.fetchall()
    if rows[0][0]:
        return None
    message_columns = len(OutboxMessage._meta.concrete_fields)
    messages, destinations = [], {}
    for row in rows:
        if row[1] is None:  # the row that says nothing was claimed
            continue
        message = _instance(OutboxMessage, row[1:1 + message_columns])
        if message.destination_id not in destinations:  # one instance per destination: its secrets decrypted once
            destinations[message.destination_id] = _instance(Destination, row[1 + message_columns:])
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
        "delivered_ids": [message.id for message in delivered],
        "closed_destinations": list({message.destination_id for message in delivered}),
        "ordering_keys": list({message.ordering_key for message in delivered if message.ordering_key}),
    }
    with connection.cursor() as cursor:
        cursor.execute(_record_delivered_text(), params)
        return [head for (head,) in cursor.fetchall()]
