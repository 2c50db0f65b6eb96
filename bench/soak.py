"""Soak: is every hub process flat over time? (`make soak`; not part of `make test`)

Full run (default, SOAK_MINUTES=10): `make run`'s processes (the Procfile under honcho, on a PostgreSQL
cluster of its own from the wheel, var/soak/postgres) under steady signed debits (SOAK_RATE a second, default
40) and Careem orders (4 a second). Every 10 s it samples each process's resident memory (the sum over its
process tree), its open descriptors by kind (regular files, sockets, pipes, anonymous inodes such as epoll
and eventfd: /proc/<pid>/fd) and the database's connections. After the warm-up (the first 40 %), it fails when
a hub process's memory still rises (over 3 MB and 3 % from the first samples after the warm-up to the last ones),
when any kind of its descriptors grows (the web's sockets aside: the load's keep-alive connections come and go),
or when the database's connections grow. The fakes are reported (their record is bounded by MOCK_RECORD_LIMIT),
not judged.

Short run (`--short`, in CI, SOAK_MINUTES=2): the outbox dispatcher in this process, as `make run` runs it
(DEBUG on), delivering a steady stream to a receiver on loopback; tracemalloc compares this process's
allocations after the warm-up with those at the end, per delivered message. It fails above 16 bytes.
"""

import argparse
import json
from concurrent.futures import ThreadPoolExecutor
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOAK_DIR = ROOT / "var" / "soak"
HUB_PROCESSES = {"web", "worker", "dispatcher", "beat"}
ANSWERS: "Counter[str]" = Counter()  # the load's answers by kind and status
WARM_UP = 0.4
MAX_GROWTH_MB, MAX_GROWTH_SHARE = 3.0, 0.03
MAX_BYTES_PER_MESSAGE = 16


def database(name: str) -> str:
    sys.path.insert(0, str(ROOT))
    from hub import embedded_postgres

    embedded_postgres.start(SOAK_DIR / "postgres", name, fresh=True)
    return embedded_postgres.url(SOAK_DIR / "postgres", name)


def stop_database() -> None:
    from hub import embedded_postgres

    embedded_postgres.stop(SOAK_DIR / "postgres")


# --- the full run -----------------------------------------------------------------------------
def full(minutes: float) -> int:
    import psutil  # type: ignore[import-untyped]
    import requests

    env = {**os.environ, "DATABASE_URL": database("hub_soak"), "HUB_VAR_DIR": str(SOAK_DIR), "LOG_LEVEL": "WARNING",
           "WEBHOOK_RATE_LIMIT": "1000000",
           "PROMETHEUS_MULTIPROC_DIR": str(SOAK_DIR / "prometheus"), "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"}
    (SOAK_DIR / "prometheus").mkdir(parents=True, exist_ok=True)
    for command in (["migrate", "--noinput"], ["setup_periodic_tasks"], ["setup_destinations"],
                    ["setup_providers", "--demo"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    log = (SOAK_DIR / "honcho.log").open("wb")
    honcho = subprocess.Popen([str(ROOT / ".venv" / "bin" / "honcho"), "--procfile", "Procfile", "start"], cwd=ROOT,
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    stop = threading.Event()
    try:
        _wait_for("http://127.0.0.1:8000/health", requests)
        rate = int(os.environ.get("SOAK_RATE") or 40)
        load = [threading.Thread(target=_debits, args=(stop, rate)), threading.Thread(target=_orders, args=(stop,))]
        for thread in load:
            thread.start()
        samples = _sample(psutil.Process(honcho.pid), env["DATABASE_URL"], minutes * 60, psutil)
    finally:
        stop.set()
        os.killpg(honcho.pid, signal.SIGINT)
        honcho.wait(timeout=60)
        stop_database()
    return _judge(samples, minutes)


def _wait_for(url: str, requests) -> None:
    for _ in range(120):
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise SystemExit(f"{url} did not answer")


def _debits(stop: threading.Event, per_second: int) -> None:
    """`per_second` signed debits a second, from enough threads (each with its keep-alive session) to keep up."""
    import requests

    sys.path.insert(0, str(ROOT))
    from hub.signing import wallet_signature

    secret = os.environ.get("WALLET_HMAC_SECRET", "dev-insecure-wallet-hmac-secret").split(",")[0]
    sessions = threading.local()

    def debit() -> None:
        session = getattr(sessions, "session", None) or requests.Session()
        sessions.session = session
        ref = uuid.uuid4().hex[:16]
        body = json.dumps({"playerId": f"p-{ref[:3]}", "amountCents": 1, "currency": "USD", "refId": ref}).encode()
        stamp = str(int(time.time()))
        try:
            answer = session.post("http://127.0.0.1:8000/wallet/debit", data=body, timeout=10, headers={
                "Content-Type": "application/json", "Idempotency-Key": ref, "X-Timestamp": stamp,
                "X-Signature": wallet_signature(body=body, timestamp=stamp, secret=secret)})
            ANSWERS[f"debit {answer.status_code}"] += 1
        except requests.RequestException:
            ANSWERS["debit error"] += 1

    with ThreadPoolExecutor(max_workers=max(2, per_second // 10)) as pool:
        while not stop.is_set():
            started = time.monotonic()
            for _ in range(per_second):
                pool.submit(debit)
            stop.wait(max(0.0, 1 - (time.monotonic() - started)))


def _orders(stop: threading.Event, per_second: int = 4) -> None:
    import requests

    from hub.signing import hex_hmac

    template = json.loads((ROOT / "providers/tests/fixtures/careem/order_created_jod.json").read_text())
    secret = os.environ.get("CAREEM_WEBHOOK_SECRET", "dev-insecure-careem-webhook-secret")
    while not stop.is_set():
        for _ in range(per_second):
            template["details"]["id"] = f"soak-{uuid.uuid4().hex[:12]}"
            body = json.dumps(template).encode()
            try:
                answer = requests.post("http://127.0.0.1:8000/api/webhooks/careem", data=body, timeout=10, headers={
                    "Content-Type": "application/json", "x-careem-signature": hex_hmac(secret=secret, message=body)})
                ANSWERS[f"order {answer.status_code}"] += 1
            except requests.RequestException:
                ANSWERS["order error"] += 1
        stop.wait(1)


def _sample(honcho, database_url: str, seconds: float, psutil) -> list[dict]:
    import psycopg

    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(10)
        row: dict = {"t": round(seconds - (deadline - time.monotonic()))}
        for child in honcho.children():
            try:
                name = _procfile_name(child)
                tree = [child, *child.children(recursive=True)]
                kinds: Counter[str] = Counter()
                for process in tree:
                    kinds.update(_descriptor_kinds(process.pid))
                row[name] = {"rss_mb": round(sum(p.memory_info().rss for p in tree) / 2**20, 1), "fds": dict(kinds)}
            except psutil.Error:
                continue
        with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as connection:
            count = connection.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
            row["db_connections"] = (count.fetchone() or (1,))[0] - 1
        samples.append(row)
        print(json.dumps(row), flush=True)
    return samples


def _descriptor_kinds(pid: int) -> Counter[str]:
    """A process's open descriptors by kind: file, socket, pipe, anon_inode (epoll, eventfd...)."""
    kinds: Counter[str] = Counter()
    folder = Path(f"/proc/{pid}/fd")
    for fd in os.listdir(folder):
        try:
            target = os.readlink(folder / fd)
        except OSError:
            continue  # closed meanwhile
        kinds["file" if target.startswith("/") else target.split(":", 1)[0]] += 1
    return kinds


def _procfile_name(process) -> str:
    """The Procfile name of the process tree under one of honcho's children (honcho forks, then sh -c)."""
    command = " ".join(" ".join(p.cmdline()) for p in [process, *process.children(recursive=True)])
    for name, marker in (("web", "gunicorn"), ("worker", "worker"), ("dispatcher", "run_outbox_dispatcher"),
                         ("beat", "beat"), ("operator", "operator"), ("rgs", "rgs"), ("backend", "backend"),
                         ("careem", "careem"), ("talabat", "talabat"), ("deliveroo", "deliveroo"),
                         ("ubereats", "ubereats")):
        if marker in command:
            return name
    return command[:30]


def _judge(samples: list[dict], minutes: float) -> int:
    after = samples[int(len(samples) * WARM_UP):]
    first, last = after[:3], after[-3:]
    problems, report = [], {}
    names = sorted({name for row in samples for name, value in row.items() if isinstance(value, dict)})
    for name in names:
        start = statistics.mean(row[name]["rss_mb"] for row in first if name in row)
        end = statistics.mean(row[name]["rss_mb"] for row in last if name in row)
        kinds = sorted({kind for row in after if name in row for kind in row[name]["fds"]})
        fds = {kind: (max(row[name]["fds"].get(kind, 0) for row in first if name in row),
                      max(row[name]["fds"].get(kind, 0) for row in last if name in row)) for kind in kinds}
        report[name] = {"rss_after_warm_up_mb": round(start, 1), "rss_at_end_mb": round(end, 1),
                        "fds": fds, "judged": name in HUB_PROCESSES}
        if name in HUB_PROCESSES and end - start > max(MAX_GROWTH_MB, MAX_GROWTH_SHARE * start):
            problems.append(f"{name}: {start:.1f} → {end:.1f} MB after the warm-up")
        for kind, (before, now) in fds.items():
            if name in HUB_PROCESSES and now > before + 2 and (name, kind) != ("web", "socket"):
                problems.append(f"{name}: open {kind} descriptors {before} → {now}")
    if ANSWERS["debit 201"] == 0 or ANSWERS["order 200"] == 0:
        problems.append(f"the load did not get through: {dict(ANSWERS)}")
    connections = (max(row["db_connections"] for row in first), max(row["db_connections"] for row in last))
    if connections[1] > connections[0] + 2:
        problems.append(f"database connections {connections[0]} → {connections[1]}")
    result = {"minutes": minutes, "answers": dict(ANSWERS), "processes": report, "db_connections": connections,
              "problems": problems}
    (SOAK_DIR / "soak.json").write_text(json.dumps(result, indent=2))
    print(f"\n{'process':<12}{'MB after warm-up':>18}{'MB at end':>12}   descriptors by kind, after warm-up → end")
    for name, row in report.items():
        descriptors = ", ".join(f"{kind} {a}→{b}" for kind, (a, b) in row["fds"].items())
        print(f"{name:<12}{row['rss_after_warm_up_mb']:>18}{row['rss_at_end_mb']:>12}   {descriptors}"
              f"{'' if row['judged'] else '   (a fake: reported only)'}")
    print(f"database connections {connections[0]} → {connections[1]}; load answers {dict(sorted(ANSWERS.items()))}")
    print("soak: " + ("; ".join(problems) if problems else "flat"))
    return 1 if problems else 0


# --- the short run (CI) ---------------------------------------------------------------------------
class _Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


def short(minutes: float) -> int:
    import gc
    import tracemalloc

    url = database("hub_soak_short")
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "true", "LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    import django

    django.setup()
    from django.db import reset_queries
    from django.utils import timezone

    from webhooks.dispatcher import dispatch
    from webhooks.models import Destination, OutboxMessage

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    receiver.daemon_threads = True
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    destination, _ = Destination.objects.update_or_create(name="rgs", defaults={
        "url": f"http://127.0.0.1:{receiver.server_address[1]}/webhooks", "retry_delays": [1], "max_attempts": 5,
        "signing_secrets": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
    stop = threading.Event()
    delivered = {"n": 0}
    dispatcher = threading.Thread(target=lambda: delivered.update(n=dispatch(stop, idle_seconds=0.2)))
    dispatcher.start()

    def feed(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            reset_queries()  # this thread is the test's, not the dispatcher's: its DEBUG log must not count
            now = timezone.now()
            OutboxMessage.objects.bulk_create([
                OutboxMessage(event_id=f"msg_{uuid.uuid4().hex}", event_type="soak.event", destination=destination,
                              payload={"n": n}, occurred_at=now, next_attempt_at=now) for n in range(100)])
            time.sleep(0.25)

    def drained() -> int:
        """The delivered count once nothing is pending (both snapshots are taken with the dispatcher idle,
        so a batch in flight is not counted as growth)."""
        for _ in range(600):
            reset_queries()
            if not OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).exists():
                break
            time.sleep(0.1)
        time.sleep(1)
        gc.collect()
        return OutboxMessage.objects.filter(status=OutboxMessage.Status.DELIVERED).count()

    warm_up = minutes * 60 * WARM_UP
    feed(warm_up)
    tracemalloc.start()
    at_start = drained()
    before = tracemalloc.take_snapshot()
    feed(minutes * 60 - warm_up)
    at_end = drained()
    after = tracemalloc.take_snapshot()
    stop.set()
    dispatcher.join(timeout=30)
    stop_database()
    growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    messages = max(1, at_end - at_start)
    per_message = growth / messages
    print(f"soak --short: {messages} messages delivered after the warm-up, this process grew {growth} bytes: "
          f"{per_message:.1f} bytes per message (at most {MAX_BYTES_PER_MESSAGE})")
    for stat in after.compare_to(before, "lineno")[:5]:
        print(f"  {stat}")
    return 0 if per_message <= MAX_BYTES_PER_MESSAGE else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="the dispatcher alone, in process, with tracemalloc")
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 0)) or None)
    args = parser.parse_args()
    SOAK_DIR.mkdir(parents=True, exist_ok=True)
    minutes = args.minutes or (2.0 if args.short else 10.0)
    sys.exit(short(minutes) if args.short else full(minutes))


if __name__ == "__main__":
    main()
