"""Both sides must be merged in the same order whatever the database's collation is."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import NotSupportedError, connection, transaction
from django.test.utils import CaptureQueriesContext

from reconciliation.services import merge
from reconciliation.sources import Record, hub_records
from wallet.models import WalletTransaction

REF_IDS = ["Bet-b", "bet-A", "bet_a", "bet-a", "bet.9", "BET-Z", "a b", "ab", "a-b", "aB", "Ä-1", "z"]
NOON = datetime(2026, 1, 15, 12, tzinfo=UTC)


def record(ref_id: str) -> Record:
    return Record(ref_id, "DEBIT", 100, "USD", "COMPLETED", NOON)


@pytest.mark.django_db
def test_the_hub_stream_is_in_byte_order_whatever_the_columns_collation():
    """A server's cluster may sort text linguistically (an en_US or ICU locale: 'a-b' < 'aB'); the hub's
    query orders by COLLATE "C" so its stream merges with the Operator's byte-ordered listing. Where the
    server has ICU, the column is given a linguistic collation too (the wheel's build has neither ICU nor
    OS locales: there the query's own COLLATE is what is checked)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT collname FROM pg_collation WHERE collname IN ('unicode', 'und-x-icu') "
                       "AND collprovider = 'i' ORDER BY 1 LIMIT 1")
        icu = cursor.fetchone()
        try:
            with transaction.atomic():  # the collation is listed even where the build cannot use it
                cursor.execute(f'ALTER TABLE wallet_wallettransaction ALTER COLUMN ref_id TYPE varchar(64) '
                               f'COLLATE "{icu[0]}"' if icu else "SELECT 1")
        except NotSupportedError:
            pass
    WalletTransaction.objects.bulk_create(
        WalletTransaction(ref_id=ref_id, type="DEBIT", player_id="p", amount_cents=1, currency="USD", created_at=NOON)
        for ref_id in REF_IDS
    )

    with CaptureQueriesContext(connection) as queries:
        streamed = [r.ref_id for r in hub_records(NOON - timedelta(hours=1), NOON + timedelta(hours=1))]

    assert streamed == sorted(REF_IDS)
    assert 'COLLATE "C"' in queries[-1]["sql"].split("ORDER BY")[1], queries[-1]["sql"]


def test_merge_pairs_by_ref_id_and_keeps_one_sided_records():
    hub = [record(r) for r in ["a", "b", "d"]]
    operator = [record(r) for r in ["b", "c", "d", "e"]]

    pairs = [(h.ref_id if h else None, o.ref_id if o else None) for h, o in merge(iter(hub), iter(operator))]

    assert pairs == [("a", None), ("b", "b"), (None, "c"), ("d", "d"), (None, "e")]
