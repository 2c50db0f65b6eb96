"""What one debit, one order and one baseline request cost in machine instructions: figures that do
not move with the machine's speed or with what else runs on it.

The CPU figures of `http_bench.py` and `cost_bench.py` drift by a third between runs ten minutes
apart on a shared machine, and by twice between machines (docs/PERFORMANCE.md, ninth step).
`valgrind --tool=callgrind` counts the instructions a process executes instead: the same count, to
0.02 %, for the same code, however slow or busy the machine. One child process under callgrind warms
each kind of request up, then runs COUNT of each in process (Django's test client, as in
`cost_bench.py`; the Operator fake over real HTTP). Only the hub's own process is counted: not
PostgreSQL, not the fake; and not gunicorn, which the test client bypasses.

Usage: python bench/instructions_bench.py [--count 50] [--check] with BENCH_DATABASE_URL (PostgreSQL)
set; needs valgrind; about a minute. Results in var/bench/instructions.json. With --check (.ci/run)
it fails when a debit or an order costs more baseline requests than BUDGET: a budget that holds on
any machine, because both sides are counted, not timed.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_DIR, ROOT, prepare_environment, setup_django, start, stop  # noqa: E402
from bench.in_process import post_debits, post_orders  # noqa: E402

OPERATOR = "http://127.0.0.1:18831"
WARM_UP, COUNT = 20, 50
KINDS = ("debit", "order", "baseline")
# --check (.ci/run): the most a debit and an order may cost, in baseline requests. 2.20 and 2.70 on
# 2026-12-06 (issue "One database, one implementation"), with 15 % headroom: ordinary feature work and
# a library upgrade fit; a request grown a sixth costlier does not.
BUDGET = {"debit": 2.55, "order": 3.1}


def _baseline(count: int) -> int:
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    for n in range(count):
        body = json.dumps({"playerId": f"bench-{n % 50}", "amountCents": 1, "refId": f"i-{uuid.uuid4().hex}"})
        response = client.post("/wallet/__bench-baseline-debit", body, content_type="application/json")
        if response.status_code != 201:
            raise SystemExit(f"baseline answered {response.status_code}: {response.content[:200]!r}")
    return count


def child(count: int) -> None:
    """Warm every kind up, then run `count` of each inside sys.call_tracing: the one function
    callgrind counts in (--toggle-collect) and dumps after (--dump-after). Nothing else in the
    process calls it, and with no tracer set it only calls its argument."""
    setup_django()
    from webhooks import nudges

    nudges.install_trigger(nudges.NoTrigger())  # the outbox rows are written, not delivered: as in cost_bench
    works = {"debit": post_debits, "order": post_orders, "baseline": _baseline}
    for work in works.values():
        work(WARM_UP)
    for kind in KINDS:
        sys.call_tracing(works[kind], (count,))


def count_instructions(count: int, env: dict[str, str]) -> dict[str, int]:
    out = BENCH_DIR / "callgrind.out"
    for stale in BENCH_DIR.glob("callgrind.out*"):  # an interrupted run's
        stale.unlink()
    run = subprocess.run(["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=sys_call_tracing",
                          "--dump-after=sys_call_tracing", f"--callgrind-out-file={out}", sys.executable, __file__,
                          "--child", "--count", str(count)], cwd=ROOT, env=env, capture_output=True, text=True)
    dumps = sorted(BENCH_DIR.glob("callgrind.out.*"), key=lambda path: int(path.suffix[1:]))
    totals = [int(match.group(1)) for dump in dumps if (match := re.search(r"^totals: (\d+)", dump.read_text(), re.M))]
    for path in [out, *dumps]:
        path.unlink(missing_ok=True)
    if run.returncode != 0 or len(totals) != len(KINDS):
        raise SystemExit(f"the child under callgrind failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return {kind: round(total / count) for kind, total in zip(KINDS, totals, strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=COUNT, help=f"requests of each kind counted (default {COUNT})")
    parser.add_argument("--check", action="store_true", help=f"fail when a kind costs more than its budget {BUDGET}")
    args = parser.parse_args()
    if args.child:
        child(args.count)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("bench/instructions_bench.py needs valgrind: apt-get install valgrind")
    if not os.environ.get("BENCH_DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("bench/instructions_bench.py needs BENCH_DATABASE_URL (PostgreSQL)")
    # A fixed hash seed: the same dict and set layouts, hence the same instructions, in every run.
    env = {**prepare_environment(OPERATOR_BASE_URL=OPERATOR, HUB_ROOT_URLCONF="bench.urls",
                                 WEBHOOK_RATE_LIMIT="100000000"), "PYTHONHASHSEED": "0"}
    for command in ("setup_destinations", "setup_providers"):
        subprocess.run([sys.executable, "manage.py", command], cwd=ROOT, env=env, check=True, capture_output=True)
    setup_django()
    from bench.baseline import create_tables

    create_tables(50)
    operator = start(["manage.py", "run_mock", "operator", "--port", OPERATOR.rsplit(":", 1)[1], "--threads", "4"], env,
                     ready_url=f"{OPERATOR}/__control/requests", name="instructions-operator")
    try:
        per_request = count_instructions(args.count, env)
    finally:
        stop(operator)
    baseline = per_request["baseline"]
    results = {"instructions_per_request": per_request,
               "in_baseline_requests": {kind: round(count / baseline, 2) for kind, count in per_request.items()}}
    (BENCH_DIR / "instructions.json").write_text(json.dumps(results, indent=2))
    print(f"{'hub process, in process':<26} {'instructions':>14} {'baseline requests':>18}")
    for kind, count in per_request.items():
        print(f"{kind:<26} {count:>14,} {count / baseline:>18.2f}")
    over = {kind: ratio for kind, ratio in results["in_baseline_requests"].items() if ratio > BUDGET.get(kind, ratio)}
    if args.check and over:
        raise SystemExit(f"over the instruction budget {BUDGET} (baseline requests): {over}")


if __name__ == "__main__":
    main()
