"""Reconciliation benchmark: N matching transactions per side, then `manage.py reconcile` in a child
process; prints seconds, rows/s (both sides) and the child's peak RSS, and writes JSON.

Usage: python bench/reconcile_bench.py [--sizes 100000,1000000]
Database: BENCH_DATABASE_URL, else a fresh database on the embedded PostgreSQL under var/bench/postgres.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, prepare_environment  # noqa: E402

DAY = date(2026, 3, 1)


def start_operator(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = 18801
    process = subprocess.Popen([sys.executable, "manage.py", "run_mock", "operator", "--port", str(port)], cwd=ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(f"{url}/__control/requests", timeout=1)
            return process, url
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit("the Operator fake did not start")


def fill_hub(count: int) -> float:
    """The same N transactions the Operator fake's bulk generator makes (ids, amounts, day)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    django.setup()
    from django.db import connection

    started = time.perf_counter()
    step = 86_400_000_000 // count
    day = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC)
    columns = ("transaction_id", "ref_id", "type", "player_id", "amount_cents", "currency", "status", "original_ref_id",
               "is_tombstone", "operator_tx_id", "error_code", "response_body", "correlation_id", "created_at")

    def rows():
        for n in range(count):
            yield (uuid.uuid4(), f"bulk-{DAY.isoformat()}-{n:09d}", "DEBIT", f"bulk-player-{n % 1000}",
                   (n * 37) % 10_000 + 1, "USD", "COMPLETED", "", False, f"op_bulk_{n:09d}", "", "", "",
                   day + timedelta(microseconds=n * step))

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM wallet_wallettransaction")
    if connection.vendor == "postgresql":
        raw = connection.connection
        with raw.cursor() as cursor, cursor.copy(f"COPY wallet_wallettransaction ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows():
                copy.write_row(row)
        raw.commit()
    else:
        placeholders = ", ".join("%s" for _ in columns)
        batch = []
        with connection.cursor() as cursor:
            for row in rows():
                batch.append((str(row[0]), *row[1:]))
                if len(batch) == 20_000:
                    cursor.executemany(f"INSERT INTO wallet_wallettransaction ({', '.join(columns)}) VALUES ({placeholders})", batch)
                    batch.clear()
            if batch:
                cursor.executemany(f"INSERT INTO wallet_wallettransaction ({', '.join(columns)}) VALUES ({placeholders})", batch)
    return time.perf_counter() - started


def reconcile(env: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory() as output:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "manage.py", "reconcile", "--date", DAY.isoformat(), "--output-dir", output],
                                   cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out = process.stdout.read().decode()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"reconcile exited {code}:\n{out}\n{process.stderr.read().decode()[-2000:]}")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    env = prepare_environment()
    operator, operator_url = start_operator(env)
    env["OPERATOR_BASE_URL"] = operator_url
    results = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            requests.post(f"{operator_url}/__control/reset", timeout=60)
            requests.post(f"{operator_url}/__control/transactions/bulk", json={"count": size, "date": DAY.isoformat()},
                          timeout=600).raise_for_status()
            fill_seconds = fill_hub(size)
            measured = reconcile(env)
            results.append({"per_side": size, **measured, "rows_per_second": round(2 * size / measured["seconds"]),
                            "hub_fill_seconds": round(fill_seconds, 1)})
            print(f"{size:>9,} per side: {measured['seconds']:>7.2f} s  {results[-1]['rows_per_second']:>9,} rows/s  "
                  f"peak RSS {measured['peak_rss_mb']:>6.1f} MB", flush=True)
    finally:
        operator.terminate()
    if len(results) > 1:
        first, last = results[0], results[-1]
        growth = (last["seconds"] / first["seconds"]) / (last["per_side"] / first["per_side"])
        print(f"time growth per size growth: {growth:.2f} (1.00 = linear)")
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
              "database": env["DATABASE_URL"].split("://")[0], "results": results}
    path = ROOT / "var" / "bench" / "reconcile.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"results: {path}")


if __name__ == "__main__":
    main()
