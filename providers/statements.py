"""Intake's hot statements: its two per-request reads, an audit row, and a new order with everything it
makes. Built with psycopg.sql from the models' names (and `hub.db`'s inserts, and the outbox's part,
`webhooks.outbox.outbox_part`), each text once per process.

Through the ORM each read was compiled anew per order (a fifth of intake's CPU per order,
`bench/cost_bench.py`), and a new order was a transaction of six round trips (BEGIN, four inserts,
COMMIT), each INSERT compiled anew; here it is one statement, all or nothing as the transaction was.
`providers/tests/test_statements.py` compares each with what the ORM reads or writes.
"""

from collections.abc import Collection
from functools import cache

from django.db import connection
from psycopg import sql

from hub.db import column, insert, insert_together, statement_text, table
from providers.models import InboundWebhook, Order, OrderEvent, ProductMapping, Provider
from webhooks.outbox import OutboxInsert, outbox_part


@cache
def _provider_enabled_text() -> str:
    return statement_text(sql.SQL("SELECT {enabled} FROM {providers} WHERE {name} = %s").format(
        enabled=column(Provider, "enabled"), providers=table(Provider), name=column(Provider, "name")))


def provider_enabled(name: str) -> bool | None:
    """True or False as the provider's row says; None when there is no such provider."""
    with connection.cursor() as cursor:
        cursor.execute(_provider_enabled_text(), [name])
        row = cursor.fetchone()
    return None if row is None else bool(row[0])


@cache
def _product_ids_text() -> str:
    return statement_text(sql.SQL(
        "SELECT m.{external_item_id}, m.{product_id} FROM {mappings} m JOIN {providers} p ON p.id = m.{provider_id} "
        "WHERE p.{name} = %s AND m.{external_item_id} = ANY(%s)").format(
        external_item_id=column(ProductMapping, "external_item_id"), product_id=column(ProductMapping, "product_id"),
        mappings=table(ProductMapping), providers=table(Provider), provider_id=column(ProductMapping, "provider"),
        name=column(Provider, "name")))


def product_ids(*, provider: str, external_ids: Collection[str]) -> dict[str, str]:
    """External item id → the backend's product id, for those of `external_ids` that are mapped (one
    statement text whatever the number of items)."""
    if not external_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_product_ids_text(), [provider, list(external_ids)])
        return dict(cursor.fetchall())


def audit(row: InboundWebhook) -> None:
    insert(row)


@cache
def _message_after_audit() -> str:
    return statement_text(outbox_part(after="row0"))


def new_order(*, audit_row: InboundWebhook, order: Order, event: OrderEvent, message: OutboxInsert) -> int:
    """The request's audit row, the order, its first event and the backend's message, in one statement;
    the message's id. A duplicate (the audit row's or the order's unique constraint) writes nothing and
    raises IntegrityError."""
    return insert_together([audit_row, order, event], then=_message_after_audit(), then_params=message.params)
