"""Database helpers every app may use."""

import uuid
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from functools import cache
from typing import Any

from django.db import (DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, InterfaceError, OperationalError,
                       close_old_connections, connection, connections, models, reset_queries, transaction)
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, signals
from psycopg import sql

from hub.internals import mark_saved

def table(model: type[Model]) -> sql.Identifier:
    """A model's table, for the SQL of a `statements.py` module."""
    return sql.Identifier(model._meta.db_table)


def column(model: type[Model], field_name: str) -> sql.Identifier:
    return sql.Identifier(str(model._meta.get_field(field_name).column))  # type: ignore[union-attr]


def statement_text(statement: sql.Composable) -> str:
    """A statement's text, for a `statements.py` function to build once per process (functools.cache): as a
    Composable, psycopg would join and quote its parts again at each execution."""
    return statement.as_string()


def lock_until_commit(name: str) -> None:
    """Serialize a piece of work across processes until the current transaction ends: a
    transaction-scoped advisory lock on the name's hash. Call it inside `transaction.atomic()`.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("lock_until_commit() must run inside transaction.atomic()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])


class HasSignalReceivers(TypeError):
    pass


def _refuse_signal_receivers(model: type[Model]) -> None:
    """The inserts here skip `save()`, so they refuse a model that has `pre_save`/`post_save` receivers,
    which they would silently bypass (checked at every insert: a receiver may be connected at any time)."""
    if signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model):
        raise HasSignalReceivers(f"{model._meta.label} has pre_save/post_save receivers: save() it instead")


def _written_fields(model: type[Model]) -> tuple:
    """The columns an INSERT of `model` writes: all but an id the database generates."""
    return tuple(field for field in model._meta.concrete_fields if not (field.primary_key and field.db_returning))


# Field classes (exactly these, not subclasses: an encrypted field converts) whose conversion for the
# database returns a value of the type named here unchanged, on every database: a `str` (a text
# choice is one) for the text fields, a `bool`. None passes every field class named in this module.
_UNCHANGED_TYPES: dict[type[Field], type] = {models.CharField: str, models.TextField: str, models.BooleanField: bool}
# PostgreSQL takes a UUID and an aware datetime as they are.
_UNCHANGED_ON_POSTGRESQL: dict[type[Field], type] = {**_UNCHANGED_TYPES, models.UUIDField: uuid.UUID,
                                                     models.DateTimeField: datetime}
# An `int` for these is only wrapped, by type: on psycopg 3, Django's Int2/Int4/Int8, so that a
# prepared statement keeps its parameter types whatever the values.
_INTEGER_FIELDS = frozenset({models.SmallIntegerField, models.IntegerField, models.BigIntegerField,
                             models.PositiveSmallIntegerField, models.PositiveIntegerField,
                             models.PositiveBigIntegerField})
_NONE_UNCHANGED = frozenset({*_UNCHANGED_ON_POSTGRESQL, *_INTEGER_FIELDS, models.JSONField})


def _value(field: Field, instance: Model, database: BaseDatabaseWrapper | None = None) -> Any:
    """What `field.get_db_prep_save(field.pre_save(instance, True))` returns, skipping the conversion
    where its result is known: Django's runs four or five methods per field, and a debit writes 27."""
    database = database or connections[DEFAULT_DB_ALIAS]
    value = field.pre_save(instance, True)
    kind = field.__class__
    if value is None:
        if kind in _NONE_UNCHANGED:
            return None
    elif kind in _INTEGER_FIELDS:
        if type(value) is int:
            return database.ops.adapt_integerfield_value(value, field.get_internal_type())
    elif unchanged := _UNCHANGED_ON_POSTGRESQL.get(kind):
        if unchanged is datetime:
            if type(value) is datetime and value.utcoffset() is not None:  # naive: Django warns, then converts
                return value
        elif type(value) is unchanged or (unchanged is str and isinstance(value, str)):
            return value
    return field.get_db_prep_save(value, connection=database)


def _values(instance: Model, fields: tuple) -> list[Any]:
    database = connections[DEFAULT_DB_ALIAS]  # once: `connection` is a proxy, each attribute a lookup
    return [_value(field, instance, database) for field in fields]


def _saved(instance: Model, pk: Any) -> None:
    """Mark `instance` as saved, with the id the database returned when it generated one."""
    if instance._meta.pk is not None and instance._meta.pk.db_returning:  # else the id was set in Python
        instance.pk = pk
    mark_saved(instance, connection.alias)


@cache
def _insert_sql(model: type[Model], ignore_conflicts: bool) -> tuple[str, tuple]:
    """The INSERT of one row of `model`, built once per process: the ORM builds it anew per save."""
    fields = _written_fields(model)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    sql = (f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) "
           f"{'ON CONFLICT DO NOTHING ' if ignore_conflicts else ''}RETURNING {quote(str(model._meta.pk.column))}")
    return sql, fields


def insert(instance: Model, *, ignore_conflicts: bool = False) -> bool:
    """Save a new row, as `instance.save(force_insert=True)` does for a model with an automatic id and no
    signal receivers, without compiling the INSERT each time: the hot paths' inserts (a debit's key and
    PENDING row, intake's audit row, order and event) cost about half as much CPU (bench/cost_bench.py).
    With `ignore_conflicts`, a row that would break a unique constraint is not written and False is
    returned, with no IntegrityError to catch."""
    _refuse_signal_receivers(type(instance))
    sql, fields = _insert_sql(type(instance), ignore_conflicts)
    with connection.cursor() as cursor:
        cursor.execute(sql, _values(instance, fields))
        row = cursor.fetchone()
    if row is None:
        return False
    _saved(instance, row[0])
    return True


@cache
def _insert_part(model: type[Model], name: str, *, ignore_conflicts: bool = False, after: str = "") -> tuple[str, tuple]:
    """`insert`'s INSERT as one part of a WITH, named `name`, its parameters `name_0`, `name_1`, …; with
    `after`, the name of another part, its values are SELECTed from that part's row: written only beside it."""
    fields = _written_fields(model)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    values = ", ".join(f"%({name}_{n})s" for n in range(len(fields)))
    source = f"SELECT {values} FROM {after}" if after else f"VALUES ({values})"
    return (f"{name} AS (INSERT INTO {quote(model._meta.db_table)} ({columns}) {source} "
            f"{'ON CONFLICT DO NOTHING ' if ignore_conflicts else ''}RETURNING {quote(str(model._meta.pk.column))})"), fields


def _part_params(instance: Model, fields: tuple, name: str) -> dict[str, Any]:
    return {f"{name}_{n}": value for n, value in enumerate(_values(instance, fields))}


def insert_together(instances: Sequence[Model], *, then: str = "SELECT NULL", then_params: Mapping[str, Any] | None = None
                    ) -> Any:
    """Save new rows, each as `insert` would, and then `then`, all in one statement (PostgreSQL): one round
    trip and, in autocommit, one transaction without BEGIN and COMMIT; all or nothing. `then` may name the
    rows' parts `row0`, `row1`, … (in `instances` order); the first column of its first row is returned.
    Foreign keys between the rows hold: Django's are checked at commit."""
    parts, params = [], dict(then_params or {})
    for n, instance in enumerate(instances):
        _refuse_signal_receivers(type(instance))
        part, fields = _insert_part(type(instance), f"row{n}")
        parts.append(part)
        params.update(_part_params(instance, fields, f"row{n}"))
    ids = ", ".join(f"(SELECT {connection.ops.quote_name(str(type(instance)._meta.pk.column))} FROM row{n})"
                    for n, instance in enumerate(instances))
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)}, then_part AS ({then}) "
                       f"SELECT {ids}, (SELECT * FROM then_part LIMIT 1)", params)
        row = cursor.fetchone()
    for instance, pk in zip(instances, row, strict=False):
        _saved(instance, pk)
    return row[-1]


@cache
def _insert_after_sql(first: type[Model] | None, second: type[Model], gate: str) -> tuple[str, tuple, tuple]:
    parts, first_fields, sources = [], (), []
    if first is not None:
        first_part, first_fields = _insert_part(first, "row0", ignore_conflicts=True)
        parts.append(first_part)
        sources.append("row0")
    if gate:
        parts.append(f"gate AS ({gate})")
        sources.append("gate")
    second_part, second_fields = _insert_part(second, "row1", ignore_conflicts=True, after=", ".join(sources))
    quote = connection.ops.quote_name
    first_id = f"(SELECT {quote(str(first._meta.pk.column))} FROM row0)" if first is not None else "NULL"
    sql = (f"WITH {', '.join([*parts, second_part])} SELECT {first_id}, "
           f"(SELECT {quote(str(second._meta.pk.column))} FROM row1)")
    return sql, first_fields, second_fields


def insert_after(first: Model | None, second: Model, *, gate: str = "", gate_params: Mapping[str, Any] | None = None
                 ) -> tuple[bool, bool]:
    """Save `first` as `insert(first, ignore_conflicts=True)` does and, only if it was written, `second`
    likewise, in one statement (PostgreSQL): one round trip where two dependent inserts took two. Which
    of the two were written; a row not written (a unique constraint held it back) keeps no id.

    `gate`, a SELECT or a data-modifying statement with RETURNING (it may select FROM `row0`, `first`'s
    part), runs in between: `second` is written only if it returned a row. Without `first`, `second` is
    written only as the gate allows."""
    sql, first_fields, second_fields = _insert_after_sql(None if first is None else type(first), type(second), gate)
    params = dict(gate_params or {})
    if first is not None:
        _refuse_signal_receivers(type(first))
        params.update(_part_params(first, first_fields, "row0"))
    _refuse_signal_receivers(type(second))
    params.update(_part_params(second, second_fields, "row1"))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        first_pk, second_pk = cursor.fetchone()
    for instance, pk in ((first, first_pk), (second, second_pk)):
        if instance is not None and pk is not None:
            _saved(instance, pk)
    return first_pk is not None, second_pk is not None


def between_units_of_work() -> None:
    """What Django does between two requests, for a process that does its work in other units (a Celery
    task, a dispatcher's batch): connections older than CONN_MAX_AGE or broken are closed, and the
    query log that DEBUG keeps per connection is emptied. Without the latter, `make run`'s dispatcher
    (DEBUG on in development) grew by the text of every statement it ran, up to 9,000 per connection:
    about 240 bytes per delivered message for its first hours (issue "Flat over hours")."""
    reset_queries()
    close_old_connections()


def statement_guard() -> AbstractContextManager:
    """Wrap one statement whose IntegrityError the caller catches.

    Inside a transaction: a savepoint, so the error leaves the outer transaction usable. In
    autocommit mode (a request): nothing, since the statement is its own transaction, and an
    atomic block would add a BEGIN and a COMMIT round trip to it.
    """
    return transaction.atomic() if connection.in_atomic_block else nullcontext()


# Errors that say the database cannot be reached or used right now (server down, restarting,
# connection lost): the request is answered 503 with Retry-After and may be retried as it is.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)


def database_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, UNAVAILABLE_ERRORS)


def violates(exc: IntegrityError, model: type[Model], constraint: str) -> bool:
    """Whether `exc` is the violation of `model`'s unique constraint named `constraint` (PostgreSQL
    names it in the error's diagnostics)."""
    diagnostics = getattr(exc.__cause__, "diag", None)
    return diagnostics is not None and diagnostics.constraint_name == constraint


def describe_error(exc: BaseException) -> str:
    """A description safe to log and store: a database error's message and CONTEXT can quote the
    row's values (a customer's phone number), so of those only the class and SQLSTATE are kept."""
    if isinstance(exc, DatabaseError):
        sqlstate = getattr(exc.__cause__, "sqlstate", None) or getattr(exc.__cause__, "pgcode", None)
        return f"{type(exc).__name__}" + (f" (SQLSTATE {sqlstate})" if sqlstate else "")
    return f"{type(exc).__name__}: {exc}"[:500]
