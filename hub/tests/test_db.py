"""statement_guard: a savepoint inside a transaction, nothing in autocommit mode."""

import pytest
from django.db import IntegrityError, connection, transaction

from hub.db import statement_guard
from wallet.models import IdempotencyKey


def make_key() -> None:
    IdempotencyKey.objects.create(client_id="c", key="k", fingerprint="f", locked_until="2030-01-01T00:00:00Z")


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_mode_the_statement_is_its_own_transaction():
    make_key()

    with pytest.raises(IntegrityError), statement_guard():
        assert not connection.in_atomic_block  # no BEGIN/COMMIT around the one statement
        make_key()

    assert IdempotencyKey.objects.count() == 1  # the connection is still usable


@pytest.mark.django_db
def test_inside_a_transaction_a_failed_statement_leaves_it_usable():
    with transaction.atomic():
        make_key()
        with pytest.raises(IntegrityError), statement_guard():
            make_key()
        IdempotencyKey.objects.create(client_id="c", key="other", fingerprint="f", locked_until="2030-01-01T00:00:00Z")

    assert IdempotencyKey.objects.count() == 2


def test_a_database_error_is_described_without_its_message_which_may_quote_row_values():
    from django.db import DataError

    from hub.db import describe_error

    class Cause(Exception):
        sqlstate = "22021"

    error = DataError('invalid byte sequence; CONTEXT: COPY orders, line 1: "+962791234567"')
    error.__cause__ = Cause()

    assert describe_error(error) == "DataError (SQLSTATE 22021)"
    assert describe_error(ValueError("plain")) == "ValueError: plain"
