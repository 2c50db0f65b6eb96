"""Helpers for tests that start real processes (servers, workers) beside the test run."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
import responses
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)


def mock_http(*, assert_all_requests_are_fired: bool = True) -> responses.RequestsMock:
    """`responses` at the hub's transport seam: `hub.http.CurlAdapter.send`, not requests' own adapter."""
    return responses.RequestsMock(assert_all_requests_are_fired=assert_all_requests_are_fired,
                                  target="hub.http.CurlAdapter.send")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_of_test_db() -> str:
    """A DATABASE_URL for the database this test run uses, for subprocesses to share it (a Unix
    socket's folder as the host is percent-encoded, as the settings read it)."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{quote(db['HOST'] or '127.0.0.1', safe='')}{port}/{db['NAME']}"


def subprocess_env(**overrides: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **overrides}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def start_process(args: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start `python ARGS` in its own session, so a test can signal it and all its children."""
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, *args], cwd=BASE_DIR, env=env, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def child_pids(pid: int) -> list[int]:
    """The processes `pid` started (a server's workers, a supervisor's child), oldest first."""
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(child) for child in found]


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    output = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{output}")


def http_ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code < 500
    except requests.RequestException:
        return False


def start_worker(*, queue: str, log: Path, **env: str) -> subprocess.Popen:
    """A real Celery worker on this run's broker and test database, consuming only `queue`.

    The solo pool delivers in the worker's own process, so SIGKILL stops a delivery midway.
    """
    worker_env = subprocess_env(
        DATABASE_URL=database_url_of_test_db(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_TASK_DEFAULT_QUEUE=queue,
        **env,
    )
    process = start_process(
        ["-m", "celery", "-A", "hub", "worker", "--pool", "solo", "--queues", queue, "--loglevel", "INFO",
         "--without-heartbeat", "--without-mingle", "--without-gossip"],
        env=worker_env,
        log=log,
    )
    wait_until(lambda: b"ready." in log.read_bytes(), timeout=60, what="the Celery worker", log=log)
    return process


def notify_trigger(*, linger_seconds: float) -> Any:
    """The trigger of a hub process (a NOTIFY per linger, after commit) for the test process, whose nudge
    thread closes its connection after each: it must not outlive the test database."""
    from django.db import connection as thread_connection

    from webhooks import nudges

    def notify(message_ids: list[int]) -> None:
        try:
            nudges._notify_dispatchers(message_ids)
        finally:
            thread_connection.close()

    return nudges.NudgeSender(notify, linger_seconds=linger_seconds)


def start_dispatcher(*, log: Path, **env: str) -> subprocess.Popen:
    """A real `run_outbox_dispatcher` on the test database, listening before this returns."""
    process = start_process(["manage.py", "run_outbox_dispatcher"],
                            env=subprocess_env(DATABASE_URL=database_url_of_test_db(), **env), log=log)
    wait_until(lambda: b"outbox_dispatcher_listening" in log.read_bytes(), timeout=60, what="the dispatcher", log=log)
    return process


def admin_log_in(page, base_url: str, username: str, password: str) -> None:
    """Log a Playwright page in to the admin."""
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")


def stored(model: Any, pk: Any, *, ignore: tuple[str, ...] = ("id",)) -> dict[str, Any]:
    """A row as the database holds it, all but the `ignore`d columns: what the `statements.py` tests
    compare between a hot statement's row and the ORM's."""
    row = model.objects.filter(pk=pk).values().get()
    return {name: value for name, value in row.items() if name not in ignore}
