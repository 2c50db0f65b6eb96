"""Both sides as streams of comparable records, each sorted by refId in the same (byte) order.

PostgreSQL sorts text by the database's collation (e.g. en_US: 'a-b' < 'aB'), which would make a
merge with the Operator's byte-ordered listing silently pair the wrong rows; the hub query uses
COLLATE "C". Python's str order is code-point order, which is byte order for UTF-8.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.db.models.functions import Collate

from hub.money import MoneyError, to_minor
from wallet.models import WalletTransaction
from wallet.operator_client import OperatorUnavailable, operator_request

Type, Status = WalletTransaction.Type, WalletTransaction.Status
OPERATOR_TYPES = {"withdraw": Type.DEBIT, "deposit": Type.CREDIT, "rollback": Type.ROLLBACK}
OPERATOR_STATUSES = {"approved": Status.COMPLETED, "rolled_back": Status.ROLLED_BACK}
PAGE_SIZE = 1000


class IncompleteRead(Exception):
    """The Operator's listing could not be read completely: no report may claim completeness."""


@dataclass(frozen=True, slots=True)
class Record:
    ref_id: str
    type: str
    amount: int
    currency: str
    status: str
    at: datetime
    credit_kind: str = ""  # the hub's credits: WIN, BONUS, JACKPOT, PROMO or ADJUSTMENT


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hub_records(start: datetime, end: datetime) -> Iterator[Record]:
    rows = (
        WalletTransaction.objects.filter(is_tombstone=False, created_at__gte=start, created_at__lt=end)
        .order_by(Collate("ref_id", "C"))
        .values_list("ref_id", "type", "amount_cents", "currency", "status", "created_at", "kind")
    )
    for ref_id, type_, amount, currency, status, created_at, kind in rows.iterator(chunk_size=5000):
        yield Record(ref_id, type_, amount, currency, status, created_at, kind)


def operator_records(start: datetime, end: datetime) -> Iterator[Record]:
    cursor, previous = None, ""
    while True:
        query = {"from": _iso(start), "to": _iso(end), "limit": PAGE_SIZE, **({"cursor": cursor} if cursor else {})}
        try:
            answer = operator_request("GET", f"/api/v1/transactions?{urlencode(query)}")
        except OperatorUnavailable as exc:
            raise IncompleteRead(f"the Operator's listing failed: {exc}") from exc
        items, cursor = answer.body.get("items"), answer.body.get("next_cursor")
        if answer.status_code != 200 or not isinstance(items, list):
            raise IncompleteRead(f"the Operator's listing answered HTTP {answer.status_code}")
        if not items and cursor:
            raise IncompleteRead("the Operator returned an empty page with a next cursor (short read)")
        for item in items:
            record = _operator_record(item)
            if record.ref_id <= previous:
                raise IncompleteRead(f"the Operator's listing is not in transaction_id order at {record.ref_id!r}")
            previous = record.ref_id
            yield record
        if not cursor:
            return


def _operator_record(item: dict) -> Record:
    try:
        currency = item["currency"]
        return Record(
            ref_id=item["transaction_id"], type=OPERATOR_TYPES.get(item["type"], item["type"]),
            amount=to_minor(item["amount"], currency), currency=currency,
            status=OPERATOR_STATUSES.get(item["status"], item["status"]),
            at=datetime.fromisoformat(item["created_at"].replace("Z", "+00:00")),
        )
    except (KeyError, TypeError, ValueError, MoneyError) as exc:
        raise IncompleteRead(f"unreadable Operator transaction {item!r:.200}: {exc}") from exc
