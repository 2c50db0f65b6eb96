"""Both sides must be merged in the same order whatever the database's collation is."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from reconciliation.services import merge
from reconciliation.sources import Record, hub_records
from wallet.models import WalletTransaction

REF_IDS = ["Bet-b", "bet-A", "bet_a", "bet-a", "bet.9", "BET-Z", "a b", "ab", "a-b", "aB", "Ä-1", "z"]
NOON = datetime(2026, 1, 15, 12, tzinfo=UTC)


def record(ref_id: str) -> Record:
    return Record(ref_id, "DEBIT", 100, "USD", "COMPLETED", NOON)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_hub_stream_is_in_byte_order_even_under_a_linguistic_collation():
    with connection.cursor() as cursor:  # as on a cluster created with an ICU or en_US locale
        cursor.execute('ALTER TABLE wallet_wallettransaction ALTER COLUMN ref_id TYPE varchar(64) COLLATE "und-x-icu"')
    WalletTransaction.objects.bulk_create(
        WalletTransaction(ref_id=ref_id, type="DEBIT", player_id="p", amount_cents=1, currency="USD", created_at=NOON)
        for ref_id in REF_IDS
    )
    linguistic = list(WalletTransaction.objects.order_by("ref_id").values_list("ref_id", flat=True))
    assert linguistic != sorted(REF_IDS)  # the trap is really there

    streamed = [r.ref_id for r in hub_records(NOON - timedelta(hours=1), NOON + timedelta(hours=1))]

    assert streamed == sorted(REF_IDS)


def test_merge_pairs_by_ref_id_and_keeps_one_sided_records():
    hub = [record(r) for r in ["a", "b", "d"]]
    operator = [record(r) for r in ["b", "c", "d", "e"]]

    pairs = [(h.ref_id if h else None, o.ref_id if o else None) for h, o in merge(iter(hub), iter(operator))]

    assert pairs == [("a", None), ("b", "b"), (None, "c"), ("d", "d"), (None, "e")]
