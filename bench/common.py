"""What the benchmarks share: a fresh database and environment, processes started and stopped."""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"


def prepare_environment(**extra: str) -> dict[str, str]:
    """Migrated database (BENCH_DATABASE_URL, else a fresh one on the embedded PostgreSQL under
    var/bench/postgres) and the environment for children."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        from hub import embedded_postgres

        embedded_postgres.start(BENCH_DIR / "postgres", "hub_bench", fresh=True)
        url = embedded_postgres.url(BENCH_DIR / "postgres", "hub_bench")
    env = {**os.environ, "DATABASE_URL": url, "HUB_VAR_DIR": str(BENCH_DIR), "LOG_LEVEL": "WARNING", "DJANGO_DEBUG": "false",
           "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "filesystem://localhost//"),
           "CELERY_TASK_DEFAULT_QUEUE": "bench", **extra}
    if os.environ.get("BENCH_CACHE_URL"):  # production uses Redis; the database cache is much slower
        env["CACHE_URL"] = os.environ["BENCH_CACHE_URL"]
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    return env


def setup_django() -> None:
    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    django.setup()


def outbox_backlog(destination, count: int, *, held: bool = False) -> list:
    """`count` pending outbox messages to `destination`. `held` ones are due tomorrow: the hub's own
    dispatcher and workers leave them alone, for a peer to deliver."""
    from django.utils import timezone

    from webhooks.models import OutboxMessage

    now = timezone.now()
    due = {"next_attempt_at": now + timedelta(days=1)} if held else {}
    return OutboxMessage.objects.bulk_create(
        [OutboxMessage(event_id=f"msg_{uuid.uuid4().hex}", event_type="bench.event", destination=destination,
                       payload={"n": n}, occurred_at=now, **due) for n in range(count)], batch_size=5000)


def start(args: list[str], env: dict[str, str], *, ready_url: str | None = None, name: str = "") -> subprocess.Popen:
    log = (BENCH_DIR / f"{name or 'process'}.log").open("wb")
    process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    if ready_url:
        for _ in range(300):
            if process.poll() is not None:
                raise SystemExit(f"{name} exited; see {log.name}")
            try:
                requests.get(ready_url, timeout=1)
                return process
            except requests.RequestException:
                time.sleep(0.1)
        raise SystemExit(f"{name} did not start; see {log.name}")
    return process


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


CPU_GROUPS = (("wrk", "load (wrk)"), ("gunicorn", "hub"), ("granian", "hub"), ("bench.peer", "peer worker"), ("run_outbox_dispatcher", "dispatcher"), ("celery", "worker"), ("run_mock operator", "operator fake"),
              ("run_mock rgs", "rgs fake"), ("run_mock backend", "backend fake"), ("bench/receiver", "receiver"),
              ("run_mock careem", "provider fakes"), ("run_mock talabat", "provider fakes"),
              ("run_mock deliveroo", "provider fakes"), ("run_mock ubereats", "provider fakes"),
              ("postgres", "postgres"), ("redis-server", "redis"))


def cpu_seconds_by_group() -> dict[str, float]:
    """CPU seconds (user + system) used so far by every live process, summed per component. A
    process's waited-for children count too, so the CPU of a PostgreSQL backend that exits during
    a phase (connections are recycled) stays in the sum, with the postmaster."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        group = next((name for pattern, name in CPU_GROUPS if pattern in command), None)
        if group:
            totals[group] = totals.get(group, 0.0) + sum(int(value) for value in fields[11:15]) / ticks
    return totals


def cpu_ms_per_request(before: dict[str, float], after: dict[str, float], requests_done: int) -> dict[str, float]:
    """Per component, milliseconds of CPU per request between two `cpu_seconds_by_group` readings."""
    if not requests_done:
        return {}
    return {group: round((after[group] - before.get(group, 0.0)) * 1000 / requests_done, 2)
            for group in after if after[group] - before.get(group, 0.0) > 0}
