"""statement_guard: a savepoint inside a transaction, nothing in autocommit mode; the values the fast
inserts write."""

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction

from hub.db import _value, statement_guard
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


class Colour(models.TextChoices):
    RED = "red"


class Size(models.IntegerChoices):
    LARGE = 3


SAMPLE_VALUES = [None, "", "text", "Ünïcode", Colour.RED, 0, 7, -1, 2**40, Size.LARGE, True, False, 1.5, Decimal("2.50"),
                 uuid.UUID("e3885dd2-be34-4bf3-9b67-fe84068c8ee8"), {"k": [1]}, ["a"], date(2026, 12, 2), datetime(2026, 12, 2, 17, 30, tzinfo=UTC),
                 datetime(2026, 12, 2, 17, 30, tzinfo=timezone(timedelta(hours=3))), datetime(2026, 12, 2, 17, 30)]


def project_fields():
    apps = ("hub", "wallet", "providers", "webhooks")
    return [(model, field) for model in django_apps.get_models() if model._meta.app_label in apps
            for field in model._meta.concrete_fields]


@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime:RuntimeWarning")
@pytest.mark.parametrize("value", SAMPLE_VALUES, ids=repr)
def test_a_value_written_by_hub_db_is_what_django_would_write(value):
    """`_value` skips Django's conversion only where it would change nothing: for every field of every
    model of the project, and values of every common type, the same result (or the same refusal)."""
    compared = 0
    for model, field in project_fields():
        instance = model()
        setattr(instance, field.attname, value)
        try:
            expected = field.get_db_prep_save(field.pre_save(instance, True), connection=connection)
        except (TypeError, ValueError, ValidationError, AttributeError):
            with pytest.raises((TypeError, ValueError, ValidationError, AttributeError)):
                _value(field, instance)
            continue
        if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
            continue  # pre_save stamps the current time: two calls, two times
        if field.get_db_prep_save(field.pre_save(instance, True), connection=connection) != expected:
            continue  # encrypted: a new nonce per call
        actual = _value(field, instance)
        assert (type(actual), actual) == (type(expected), expected), f"{model.__name__}.{field.name}"
        compared += 1
    assert compared > 20


@pytest.mark.django_db
def test_the_hot_tables_keep_only_the_indexes_something_reads():
    """Every insert and every non-HOT update writes each index of its table: no LIKE twin of a unique
    column, no single-column index that a composite one leads with (docs/PERFORMANCE.md, tenth step)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, indexname FROM pg_indexes WHERE tablename = ANY(%s)",
                       [["wallet_wallettransaction", "webhooks_outboxmessage", "webhooks_deliveryattempt"]])
        indexes = {(table, name) for table, name in cursor.fetchall()}

    assert not {name for _, name in indexes if name.endswith("_like")}
    assert {name for table, name in indexes if table == "webhooks_deliveryattempt"} == {
        "webhooks_deliveryattempt_pkey", "attempt_recent", "webhooks_deliveryattempt_message_id_683737ce"}
    assert {name for table, name in indexes if table == "wallet_wallettransaction"} == {
        "wallet_wallettransaction_pkey", "wallet_tx_ref_id", "wallet_wallettransaction_transaction_id_key",
        "wallet_tx_status_created", "wallet_tx_player",
        # partial: written only by the transactions in a round, credits paying a bet, rollbacks
        "wallet_tx_round", "wallet_tx_bet", "wallet_tx_original"}


@pytest.mark.django_db
def test_between_units_of_work_empties_debugs_query_log(settings):
    """A long-running process (dispatcher, Celery worker) under DEBUG would keep every statement's text."""
    from django.db import connection

    from hub.db import between_units_of_work

    settings.DEBUG = True
    with connection.cursor() as cursor:
        for _ in range(3):
            cursor.execute("SELECT 1")
    assert len(connection.queries_log) >= 3

    between_units_of_work()

    assert len(connection.queries_log) == 0


def test_the_fast_inserts_refuse_a_model_with_save_receivers(db):
    """They skip save(): a receiver connected later, even after the model's first insert, must not be bypassed."""
    from django.db.models.signals import post_save, pre_save

    from hub.db import HasSignalReceivers, insert, insert_after, insert_together
    from webhooks.models import Destination

    insert(Destination(name="before", url="http://127.0.0.1:9/"))  # the statement is built and cached

    def receiver(**kwargs):
        raise AssertionError("not called: the insert refuses first")

    for signal in (pre_save, post_save):
        signal.connect(receiver, sender=Destination)
        try:
            for write in (lambda: insert(Destination(name="d", url="http://127.0.0.1:9/")),
                          lambda: insert_together([Destination(name="d", url="http://127.0.0.1:9/")]),
                          lambda: insert_after(Destination(name="d", url="http://127.0.0.1:9/"),
                                               Destination(name="e", url="http://127.0.0.1:9/"))):
                with pytest.raises(HasSignalReceivers):
                    write()
        finally:
            signal.disconnect(receiver, sender=Destination)
    assert list(Destination.objects.values_list("name", flat=True)) == ["before"]
