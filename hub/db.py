"""Database helpers every app may use."""

from django.db import connection


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
