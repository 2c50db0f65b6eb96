"""Database helpers every app may use."""

from contextlib import AbstractContextManager, nullcontext

from django.db import connection, transaction


def lock_until_commit(name: str) -> None:
    """Serialize a piece of work across processes until the current transaction ends.

    PostgreSQL: a transaction-scoped advisory lock on the name's hash. SQLite: nothing to
    do, the IMMEDIATE transaction already holds the database's single write lock.
    Call it inside `transaction.atomic()`.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("lock_until_commit() must run inside transaction.atomic()")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])


def statement_guard() -> AbstractContextManager:
    """Wrap one statement whose IntegrityError the caller catches.

    Inside a transaction: a savepoint, so the error leaves the outer transaction usable. In
    autocommit mode (a request): nothing, since the statement is its own transaction, and an
    atomic block would add a BEGIN and a COMMIT round trip to it.
    """
    return transaction.atomic() if connection.in_atomic_block else nullcontext()
