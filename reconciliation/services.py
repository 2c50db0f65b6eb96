"""Reconcile the hub's transactions with the Operator's over whole UTC days, streaming both sides.

Both sides are read over the window widened by the grace period on each edge and merged by refId.
A pair belongs to the window of its hub time (or Operator time when the hub lacks it), so every
transaction is judged by exactly one day's run. One-sided records close to an edge, and hub
transactions still PENDING, are counted as pending rather than reported: they may be in flight.
Memory stays flat: nothing is collected but counters; mismatches go to the CSV and the database
in batches. The CSV is written to a temporary name and renamed only when the run completes.
"""

import csv
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from tqdm import tqdm  # type: ignore[import-untyped]

from reconciliation.models import Mismatch, ReconciliationRun
from reconciliation.sources import IncompleteRead, Record, hub_records, operator_records
from wallet.models import WalletTransaction
from wallet.services import NOT_CHARGED, wallet_compensate

Kind = Mismatch.Kind
TxStatus = WalletTransaction.Status
MOVED_MONEY = {TxStatus.COMPLETED, TxStatus.ROLLED_BACK}  # moved (or moved and came back)
CSV_HEADER = ["kind", "ref_id", "hub_amount", "operator_amount", "currency", "hub_status", "operator_status",
              "hub_type", "operator_type", "time", "hub_credit_kind"]
BATCH = 2000


def merge(hub: Iterator[Record], operator: Iterator[Record]) -> Iterator[tuple[Record | None, Record | None]]:
    """Pairs by refId from two streams sorted the same way."""
    h, o = next(hub, None), next(operator, None)
    while h is not None or o is not None:
        if o is None or (h is not None and h.ref_id < o.ref_id):
            yield h, None
            h = next(hub, None)
        elif h is None or o.ref_id < h.ref_id:
            yield None, o
            o = next(operator, None)
        else:
            yield h, o
            h, o = next(hub, None), next(operator, None)


def mismatch_kinds(hub: Record, operator: Record) -> list[str]:
    kinds: list[str] = []
    if hub.type != operator.type:
        kinds.append(Kind.TYPE_MISMATCH)
    if hub.currency != operator.currency:
        kinds.append(Kind.CURRENCY_MISMATCH)
    elif hub.amount != operator.amount:
        kinds.append(Kind.AMOUNT_MISMATCH)
    if hub.status != operator.status:
        kinds.append(Kind.STATUS_MISMATCH)
    return kinds


@dataclass
class Tally:
    hub: int = 0
    operator: int = 0
    matched: int = 0
    pending: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    charged_not_settled: list[str] = field(default_factory=list)  # refIds of debits to refund (compensation)
    # per side and currency: [count, amount]
    totals: dict[str, defaultdict[str, list[int]]] = field(default_factory=lambda: {"hub": defaultdict(lambda: [0, 0]), "operator": defaultdict(lambda: [0, 0])})

    def add_total(self, side: str, record: Record) -> None:
        if record.status in MOVED_MONEY:
            entry = self.totals[side][record.currency]
            entry[0] += 1
            entry[1] += record.amount


def _row(kind: str, hub: Record | None, operator: Record | None) -> list[str | int]:
    either = hub or operator
    assert either is not None, "a row has at least one side"
    currency = hub.currency if hub and operator and hub.currency == operator.currency else "/".join(
        dict.fromkeys(r.currency for r in (hub, operator) if r))
    return [kind, either.ref_id, hub.amount if hub else "", operator.amount if operator else "", currency,
            hub.status if hub else "", operator.status if operator else "", hub.type if hub else "",
            operator.type if operator else "", either.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            hub.credit_kind if hub else ""]


def _compare(pairs: Iterator[tuple[Record | None, Record | None]], start: datetime, end: datetime, grace: timedelta,
             tally: Tally, emit: Callable[[str, Record | None, Record | None], None]) -> None:
    def near_edge(at: datetime) -> bool:
        return at < start + grace or at >= end - grace

    for hub, operator in pairs:
        either = hub or operator
        if either is None or not start <= either.at < end:
            continue  # another day's run judges it
        tally.hub += hub is not None
        tally.operator += operator is not None
        if hub:
            tally.add_total("hub", hub)
        if operator:
            tally.add_total("operator", operator)
        if hub is not None and hub.status == TxStatus.PENDING:
            tally.pending += 1
        elif hub is not None and operator is None:
            if hub.status == TxStatus.FAILED:
                tally.matched += 1  # refused: the Operator never had it
            elif near_edge(hub.at):
                tally.pending += 1
            else:
                emit(Kind.MISSING_IN_OPERATOR, hub, None)
        elif hub is None and operator is not None:
            if near_edge(operator.at):
                tally.pending += 1
            else:
                emit(Kind.MISSING_IN_HUB, None, operator)
        elif hub is not None and operator is not None and (kinds := mismatch_kinds(hub, operator)):
            for kind in kinds:
                emit(kind, hub, operator)
            if hub.type == WalletTransaction.Type.DEBIT and hub.status in NOT_CHARGED \
                    and operator.type == hub.type and operator.status == TxStatus.COMPLETED:
                tally.charged_not_settled.append(hub.ref_id)
        else:
            tally.matched += 1


def window_of(start_day: date, end_day: date) -> tuple[datetime, datetime]:
    return (datetime.combine(start_day, time.min, tzinfo=UTC),
            datetime.combine(end_day + timedelta(days=1), time.min, tzinfo=UTC))


def reconciliation_run(*, start_day: date, end_day: date, output_dir: Path, trigger: str = "cli",
                       show_progress: bool = False) -> ReconciliationRun:
    start, end = window_of(start_day, end_day)
    grace = timedelta(seconds=settings.RECONCILIATION_GRACE_SECONDS)
    run = ReconciliationRun.objects.create(window_start=start, window_end=end, trigger=trigger)
    output_dir.mkdir(parents=True, exist_ok=True)
    stamp = run.started_at.strftime("%Y%m%dT%H%M%S%fZ")
    csv_path = output_dir / f"reconciliation-{stamp}.csv"
    partial = csv_path.with_suffix(".csv.partial")
    tally, batch = Tally(), []

    try:
        with partial.open("w", newline="") as sink:
            writer = csv.writer(sink, lineterminator="\n")
            writer.writerow(CSV_HEADER)

            def emit(kind: str, hub: Record | None, operator: Record | None) -> None:
                row = _row(kind, hub, operator)
                writer.writerow(row)
                tally.kinds[kind] += 1
                batch.append(Mismatch(
                    run=run, kind=kind, ref_id=row[1], hub_amount=hub.amount if hub else None,
                    operator_amount=operator.amount if operator else None, currency=row[4], hub_status=row[5],
                    operator_status=row[6], hub_type=row[7], operator_type=row[8], occurred_at=row[9],
                ))
                if len(batch) >= BATCH:
                    _flush(batch)

            pairs = merge(hub_records(start - grace, end + grace), operator_records(start - grace, end + grace))
            with tqdm(pairs, disable=not show_progress, unit=" tx", desc="reconciling", mininterval=0.5) as progress:
                _compare(progress, start, end, grace, tally, emit)
            _flush(batch)
    except IncompleteRead as exc:
        partial.unlink(missing_ok=True)
        _finish(run, tally, status=ReconciliationRun.Status.INCOMPLETE, error=str(exc))
        return run
    os.replace(partial, csv_path)
    run.compensations_started = _compensate(tally.charged_not_settled)
    summary_path = output_dir / f"reconciliation-{stamp}-summary.txt"
    run.csv_path, run.summary_path = str(csv_path), str(summary_path)
    _finish(run, tally, status=ReconciliationRun.Status.COMPLETED)
    summary_path.write_text(summary_text(run))
    return run


def _compensate(ref_ids: list[str]) -> int:
    """The Operator holds a withdraw as charged that the hub settled as not charged: refund it (SPEC §3).
    Started once per debit, however many runs see it; the next run matches once it is refunded."""
    started = 0
    for debit in WalletTransaction.objects.filter(ref_id__in=ref_ids, type=WalletTransaction.Type.DEBIT,
                                                  status__in=NOT_CHARGED):
        started += wallet_compensate(debit=debit, reason="reconciliation") is not None
    return started


def _flush(batch: list[Mismatch]) -> None:
    Mismatch.objects.bulk_create(batch)
    batch.clear()


def _finish(run: ReconciliationRun, tally: Tally, *, status: str, error: str = "") -> None:
    run.status, run.error, run.finished_at = status, error, timezone.now()
    run.hub_count, run.operator_count, run.matched_count, run.pending_count = (
        tally.hub, tally.operator, tally.matched, tally.pending)
    run.counts_by_kind = {kind: tally.kinds.get(kind, 0) for kind in Kind.values}
    run.mismatch_count = sum(tally.kinds.values())
    run.totals = {side: {currency: {"count": c, "amount": a} for currency, (c, a) in sorted(by_currency.items())}
                  for side, by_currency in tally.totals.items()}
    run.save()


def summary_text(run: ReconciliationRun) -> str:
    lines = [
        f"Reconciliation run {run.id} ({run.trigger}): {run.status}",
        f"Window: {run.window_start:%Y-%m-%dT%H:%M:%SZ} to {run.window_end:%Y-%m-%dT%H:%M:%SZ} (end exclusive), "
        f"grace {settings.RECONCILIATION_GRACE_SECONDS} s",
        f"Transactions: hub {run.hub_count}, operator {run.operator_count}; matched {run.matched_count}, "
        f"pending {run.pending_count}, mismatches {run.mismatch_count}",
        f"Compensations started (debits the Operator charged that the hub had settled as not charged): "
        f"{run.compensations_started}",
        "Mismatches by kind:",
        *(f"  {kind}: {count}" for kind, count in run.counts_by_kind.items()),
        "Totals (settled money, count / amount in minor units):",
    ]
    currencies = sorted(set(run.totals.get("hub", {})) | set(run.totals.get("operator", {})))
    for currency in currencies:
        hub = run.totals.get("hub", {}).get(currency, {"count": 0, "amount": 0})
        operator = run.totals.get("operator", {}).get(currency, {"count": 0, "amount": 0})
        same = "equal" if hub == operator else "DIFFERENT"
        lines.append(f"  {currency}: hub {hub['count']} / {hub['amount']}, operator {operator['count']} / "
                     f"{operator['amount']} ({same})")
    if run.error:
        lines.append(f"Error: {run.error}")
    return "\n".join(lines) + "\n"
