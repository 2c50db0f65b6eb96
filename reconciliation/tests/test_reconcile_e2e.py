"""Reconciliation against the Operator fake over HTTP, with transactions made through the wallet API."""

from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from django.conf import settings
from django.core.management import call_command

from reconciliation import sources
from reconciliation.models import ReconciliationRun
from reconciliation.tasks import reconcile_previous_day
from wallet.models import WalletTransaction
from wallet.tests.helpers import debit_body, wallet_post
from webhooks.tests.factories import DestinationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
DAY = date(2026, 1, 15)
NOON = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
AUTH = {"Authorization": f"Bearer {settings.OPERATOR_API_KEY}"}
# Mixed case and punctuation: a locale collation would order these differently from the Operator.
REF_IDS = ["Bet-b", "bet-A", "bet_a", "bet-a", "bet.9", "BET-Z", "r-amount", "r-status", "r-currency", "r-type",
           "r-missing-op"]


@pytest.fixture
def operator(operator_mock, settings):
    settings.OPERATOR_BASE_URL = operator_mock.url
    settings.RECONCILIATION_GRACE_SECONDS = 300
    DestinationFactory(name="rgs")
    return operator_mock


def control(operator, body: dict) -> None:
    requests.post(f"{operator.url}/__control/transactions", json=body, timeout=5).raise_for_status()


def pin(operator, ref_id: str, at: datetime, **changes) -> None:
    """Move a transaction to `at` on both sides (and change Operator fields)."""
    WalletTransaction.objects.filter(ref_id=ref_id).update(created_at=at)
    item = requests.get(f"{operator.url}/api/v1/wallet/transactions/{ref_id}", headers=AUTH, timeout=5).json()
    control(operator, {"op": "upsert", "transaction": {**item, **changes, "created_at": at.isoformat()}})


def debit_through_the_api(client, ref_id: str, amount: int = 150) -> None:
    answer = wallet_post(client, "debit", debit_body(ref_id, amount=amount, player=f"p-{ref_id}"))
    assert answer.status_code == 201, answer.content


def reconcile(tmp_path, *args: str) -> tuple[str | int | None, ReconciliationRun]:
    with pytest.raises(SystemExit) as exited:
        call_command("reconcile", *args, "--output-dir", str(tmp_path))
    return exited.value.code, ReconciliationRun.objects.latest("id")


def csv_rows(run: ReconciliationRun) -> list[list[str]]:
    with open(run.csv_path) as handle:
        return [line.rstrip("\n").split(",") for line in handle]


def test_a_clean_day_exits_0_with_an_empty_csv(client, operator, tmp_path):
    for ref_id in REF_IDS[:6]:
        debit_through_the_api(client, ref_id)
        pin(operator, ref_id, NOON)

    code, run = reconcile(tmp_path, "--date", DAY.isoformat())

    assert (code, run.status, run.matched_count, run.mismatch_count) == (0, "COMPLETED", 6, 0)
    assert csv_rows(run) == [["kind", "ref_id", "hub_amount", "operator_amount", "currency", "hub_status",
                              "operator_status", "hub_type", "operator_type", "time", "hub_credit_kind"]]
    assert "Mismatches by kind:" in open(run.summary_path).read()
    assert run.totals["hub"] == run.totals["operator"] == {"USD": {"count": 6, "amount": 900}}


def test_a_credits_kind_is_in_its_row(client, operator, tmp_path):
    for ref_id, kind in (("c-jackpot", "JACKPOT"), ("c-promo", "PROMO")):
        answer = wallet_post(client, "credit", {**debit_body(ref_id, player="p-c"), "kind": kind})
        assert answer.status_code == 201, answer.content
        pin(operator, ref_id, NOON, amount="9.99")

    code, run = reconcile(tmp_path, "--date", DAY.isoformat())

    assert code == 1
    assert sorted((row[0], row[1], row[-1]) for row in csv_rows(run)[1:]) == [
        ("AMOUNT_MISMATCH", "c-jackpot", "JACKPOT"), ("AMOUNT_MISMATCH", "c-promo", "PROMO")]


def test_every_kind_is_found_with_its_ref_id_and_two_runs_give_identical_bytes(client, operator, tmp_path):
    for ref_id in REF_IDS:
        debit_through_the_api(client, ref_id)
    for ref_id in REF_IDS:
        pin(operator, ref_id, NOON, **{
            "r-amount": {"amount": "1.51"}, "r-status": {"status": "rolled_back"}, "r-currency": {"currency": "EUR"},
            "r-type": {"type": "deposit"},
        }.get(ref_id, {}))
    control(operator, {"op": "delete", "transaction_id": "r-missing-op"})
    control(operator, {"op": "upsert", "transaction": {"transaction_id": "r-missing-hub", "amount": "2.00",
                                                       "currency": "USD", "created_at": NOON.isoformat()}})

    code, first = reconcile(tmp_path, "--date", DAY.isoformat())
    _, second = reconcile(tmp_path, "--date", DAY.isoformat())

    found = sorted((row[0], row[1]) for row in csv_rows(first)[1:])
    assert code == 1
    assert found == sorted([("AMOUNT_MISMATCH", "r-amount"), ("STATUS_MISMATCH", "r-status"),
                            ("CURRENCY_MISMATCH", "r-currency"), ("TYPE_MISMATCH", "r-type"),
                            ("MISSING_IN_OPERATOR", "r-missing-op"), ("MISSING_IN_HUB", "r-missing-hub")])
    amount = next(row for row in csv_rows(first) if row[1] == "r-amount")
    assert amount[2:5] == ["150", "151", "USD"]
    assert open(first.csv_path, "rb").read() == open(second.csv_path, "rb").read()
    assert first.csv_path != second.csv_path
    assert first.matched_count == 6 and first.counts_by_kind["AMOUNT_MISMATCH"] == 1
    assert first.mismatches.count() == 6


def test_the_grace_window_keeps_in_flight_edges_out_of_the_mismatches(client, operator, tmp_path):
    midnight = datetime(2026, 1, 16, tzinfo=UTC)
    for ref_id in ("edge-early", "edge-late", "middle", "split"):
        debit_through_the_api(client, ref_id)
    pin(operator, "edge-early", datetime(2026, 1, 15, 0, 2, tzinfo=UTC))
    pin(operator, "edge-late", midnight - timedelta(minutes=2))
    pin(operator, "middle", NOON)
    pin(operator, "split", midnight - timedelta(seconds=1))
    for ref_id in ("edge-early", "edge-late", "middle"):
        control(operator, {"op": "delete", "transaction_id": ref_id})
    # The Operator booked "split" two seconds later, after midnight: the same transaction, not two mismatches.
    item = requests.get(f"{operator.url}/api/v1/wallet/transactions/split", headers=AUTH, timeout=5).json()
    control(operator, {"op": "upsert", "transaction": {**item, "created_at": (midnight + timedelta(seconds=1)).isoformat()}})

    code, today = reconcile(tmp_path, "--date", "2026-01-15")
    _, tomorrow = reconcile(tmp_path, "--date", "2026-01-16")

    assert [row[1] for row in csv_rows(today)[1:]] == ["middle"]
    assert (today.pending_count, today.matched_count) == (2, 1)
    assert (tomorrow.mismatch_count, tomorrow.hub_count, tomorrow.operator_count) == (0, 0, 0)


def test_a_range_of_days_is_one_run(client, operator, tmp_path):
    for n, ref_id in enumerate(("d1", "d2", "d3")):
        debit_through_the_api(client, ref_id)
        pin(operator, ref_id, NOON + timedelta(days=n))

    code, run = reconcile(tmp_path, "--from", "2026-01-15", "--to", "2026-01-16")

    assert (code, run.hub_count, run.matched_count) == (0, 2, 2)
    assert (run.window_start, run.window_end) == (datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 1, 17, tzinfo=UTC))


def test_an_operator_failing_mid_listing_exits_2_and_writes_no_report(client, operator, tmp_path, monkeypatch, settings):
    settings.OPERATOR_RETRY_DEADLINE_SECONDS = 2
    monkeypatch.setattr(sources, "PAGE_SIZE", 2)
    for ref_id in ("f1", "f2", "f3", "f4", "f5"):
        debit_through_the_api(client, ref_id)
        pin(operator, ref_id, NOON)
    operator.script("transactions", [{"pass": True}] + [{"status": 500}] * 10)

    code, run = reconcile(tmp_path, "--date", DAY.isoformat())

    assert (code, run.status, run.csv_path) == (2, "INCOMPLETE", "")
    assert "listing failed" in run.error
    assert list(tmp_path.iterdir()) == []


def test_the_beat_task_reconciles_yesterday_and_stores_the_run(operator, settings, tmp_path):
    settings.RECONCILIATION_OUTPUT_DIR = str(tmp_path)

    reconcile_previous_day()

    run = ReconciliationRun.objects.get()
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    assert (run.trigger, run.status, run.window_start.date()) == ("beat", "COMPLETED", yesterday)


def test_bad_arguments_are_refused(tmp_path):
    from django.core.management import CommandError

    for args in (["--date", "2026-13-01"], ["--from", "2026-01-02"], ["--from", "2026-01-02", "--to", "2026-01-01"],
                 ["--date", "2026-01-01", "--from", "2026-01-01", "--to", "2026-01-02"]):
        with pytest.raises(CommandError):
            call_command("reconcile", *args, "--output-dir", str(tmp_path))


def test_a_debit_the_operator_charged_but_the_hub_settled_failed_is_refunded_once(client, operator, tmp_path):
    """Reconciliation is the last witness of a withdraw that landed after the hub settled it FAILED: it
    reports the mismatch and starts the refund (compensation) once; once refunded, both sides agree."""
    from wallet.services import wallet_resolve_pending

    debit_through_the_api(client, "r-late")
    WalletTransaction.objects.filter(ref_id="r-late").update(status=WalletTransaction.Status.FAILED)
    pin(operator, "r-late", NOON)

    code, run = reconcile(tmp_path, "--date", DAY.isoformat())
    again_code, again = reconcile(tmp_path, "--date", DAY.isoformat())

    assert (code, run.counts_by_kind["STATUS_MISMATCH"], run.compensations_started) == (1, 1, 1)
    assert (again_code, again.compensations_started) == (1, 0)
    assert "Compensations started (debits the Operator charged that the hub had settled as not charged): 1" \
        in open(run.summary_path).read()
    compensation = WalletTransaction.objects.get(is_compensation=True, original_ref_id="r-late")
    assert wallet_resolve_pending(only_ids=[compensation.id], older_than_seconds=0) == 1
    assert len(operator.requests("rollback")) == 1
    pin(operator, compensation.ref_id, NOON)
    WalletTransaction.objects.filter(ref_id="r-late").update(created_at=NOON)

    code, settled = reconcile(tmp_path, "--date", DAY.isoformat())

    assert WalletTransaction.objects.get(ref_id="r-late").status == WalletTransaction.Status.ROLLED_BACK
    assert (code, settled.mismatch_count, settled.matched_count) == (0, 0, 2)
