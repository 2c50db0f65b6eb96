"""Intake's hot statements: an audit row, and a new order with everything it makes. Built from the
models' names (`hub.db`'s inserts) and the outbox's part (`webhooks.outbox.outbox_part`), each text once
per process.

Through the ORM a new order was a transaction of six round trips (BEGIN, four inserts, COMMIT), each
INSERT compiled anew; here it is one statement, all or nothing as the transaction was.
`providers/tests/test_statements.py` compares what each writes with what the ORM writes.
"""

from functools import cache

from hub.db import insert, insert_together, statement_text
from providers.models import InboundWebhook, Order, OrderEvent
from webhooks.outbox import OutboxInsert, outbox_part


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
