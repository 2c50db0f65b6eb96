"""What one debit and one delivery cost, in CPU and statements, without HTTP load or other processes.

The load phases of `http_bench.py` share 2 cores with everything else, so their CPU per request
drifts 20-30 % between windows. Here one process does the work alone, and the figures are the
minimum over several rounds of:

* a debit through the whole Django stack (middleware, DRF, the view, the service), the Operator
  fake answering over real HTTP: CPU of this process, CPU of its PostgreSQL backend, statements;
* a Careem order webhook through intake (the same three figures);
* one webhook delivered on its own (a nudge at low load) and in batches of 100 (a backlog), to
  the minimal receiver: the same three figures.

Run by `make bench` after the HTTP suites (`BENCH_COST_ROUNDS`, default 5); results in
`var/bench/cost.json`.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_DIR, ROOT, prepare_environment, setup_django, start, stop  # noqa: E402
from bench.in_process import post_debits, post_orders  # noqa: E402

OPERATOR, RECEIVER = "http://127.0.0.1:18821", "http://127.0.0.1:18822"
DEBITS_PER_ROUND, SINGLE_DELIVERIES, BATCH_DELIVERIES = 300, 300, 2_000


def _backend_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Meter:
    """CPU of this process and of its database backend, and statements sent, around a block."""

    def __init__(self) -> None:
        from django.db import connection

        self.statements = 0
        connection.ensure_connection()
        self._connection = connection
        self._backend = connection.cursor().connection.info.backend_pid if connection.vendor == "postgresql" else 0

    def count(self, execute, sql, params, many, context):  # Django's execute_wrapper signature
        self.statements += 1
        return execute(sql, params, many, context)

    def measure(self, work: Callable[[], int]) -> dict[str, float]:
        """Run `work` (returns how many units it did); the costs per unit."""
        self.statements = 0
        database_before = _backend_cpu_seconds(self._backend) if self._backend else 0.0
        before = time.process_time()
        with self._connection.execute_wrapper(self.count):
            units = work()
        own = time.process_time() - before
        database = (_backend_cpu_seconds(self._backend) - database_before) if self._backend else 0.0
        return {"process_ms": own * 1000 / units, "database_ms": database * 1000 / units,
                "statements": self.statements / units}


def best(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Per figure, the lowest round (the one least disturbed by the rest of the machine)."""
    return {name: round(min(r[name] for r in rounds), 3) for name in rounds[0]}


def debit_cost(meter: Meter, rounds: int) -> dict[str, float]:
    post_debits(DEBITS_PER_ROUND)  # warm-up: connections, caches, code paths
    return best([meter.measure(lambda: post_debits(DEBITS_PER_ROUND)) for _ in range(rounds)])


def intake_cost(meter: Meter, rounds: int) -> dict[str, float]:
    """A Careem order webhook, as `http_bench.py` sends them: audit row, order, event, outbox row."""
    post_orders(DEBITS_PER_ROUND)
    return best([meter.measure(lambda: post_orders(DEBITS_PER_ROUND)) for _ in range(rounds)])


def delivery_cost(meter: Meter, rounds: int) -> dict[str, dict[str, float]]:
    from webhooks.models import OutboxMessage
    from webhooks.outbox import outbox_deliver, outbox_enqueue

    def enqueue(count: int) -> list[int]:
        return [outbox_enqueue(destination="rgs", event_type="bench.cost", data={"n": n}).id for n in range(count)]

    def singles() -> int:
        for message_id in ids_single:
            outbox_deliver(message_ids=[message_id])
        return len(ids_single)

    def batches() -> int:
        delivered = 0
        while batch := outbox_deliver():
            delivered += batch
        return delivered

    OutboxMessage.objects.all().delete()  # the debits' and orders' own messages: not part of this figure
    results: dict[str, list[dict[str, float]]] = {"single": [], "batch": []}
    for _ in range(rounds + 1):  # the first round warms up
        ids_single = enqueue(SINGLE_DELIVERIES)
        results["single"].append(meter.measure(singles))
        enqueue(BATCH_DELIVERIES)
        results["batch"].append(meter.measure(batches))
    undelivered = OutboxMessage.objects.exclude(status=OutboxMessage.Status.DELIVERED).count()
    if undelivered:
        raise SystemExit(f"{undelivered} messages were not delivered")
    return {kind: best(measured[1:]) for kind, measured in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_COST_ROUNDS", "5")))
    args = parser.parse_args()
    env = prepare_environment(OPERATOR_BASE_URL=OPERATOR, RGS_WEBHOOK_URL=f"{RECEIVER}/webhooks",
                              OUTBOX_DELIVERY_THREADS="8", WEBHOOK_RATE_LIMIT="100000000")
    for command in ("setup_destinations", "setup_providers"):
        subprocess.run([sys.executable, "manage.py", command], cwd=ROOT, env=env, check=True, capture_output=True)
    fakes = [start(["manage.py", "run_mock", "operator", "--port", OPERATOR.rsplit(":", 1)[1], "--threads", "4"], env,
                   ready_url=f"{OPERATOR}/__control/requests", name="cost-operator"),
             start(["bench/receiver.py", "--port", RECEIVER.rsplit(":", 1)[1]], env, ready_url=f"{RECEIVER}/count",
                   name="cost-receiver")]
    try:
        setup_django()
        from webhooks import nudges

        nudges.install_trigger(nudges.NoTrigger())  # deliveries are measured on their own below
        meter = Meter()
        results = {"debit": debit_cost(meter, args.rounds), "intake_order": intake_cost(meter, args.rounds), **{
            f"delivery_{kind}": figures for kind, figures in delivery_cost(meter, args.rounds).items()}}
    finally:
        stop(*fakes)
    (BENCH_DIR / "cost.json").write_text(json.dumps(results, indent=2))
    print(f"{'in process, min of rounds':<28} {'process CPU ms':>15} {'PostgreSQL CPU ms':>18} {'statements':>11}")
    for name, figures in results.items():
        print(f"{name:<28} {figures['process_ms']:>15.3f} {figures['database_ms']:>18.3f} {figures['statements']:>11.2f}")


if __name__ == "__main__":
    main()
