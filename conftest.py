import gc
import os
import shutil
import uuid

import pytest
from django.conf import settings
from django.db import connections

from hub.celery import app as celery_app
from hub.testing import start_worker as launch_worker
from hub.testing import stop_process
from mock_services.testing import RunningMock, start_mock

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"]


def pytest_configure(config: pytest.Config) -> None:
    """The test process and the workers and servers it starts nudge through Celery, which the tests of
    the Celery path expect. The dispatcher's own tests and the chaos test ask for OUTBOX_TRIGGER=notify,
    and CI's smoke run of `make run` takes the default (notify on PostgreSQL)."""
    from webhooks.nudges import install_trigger

    os.environ["OUTBOX_TRIGGER"] = "celery"
    settings.OUTBOX_TRIGGER = "celery"
    install_trigger()


@pytest.fixture(scope="session")
def process_log_dir(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("process-logs")


@pytest.fixture(scope="session")
def mock_processes(process_log_dir):
    """Each fake starts once per test session, on first use, as a real `run_mock` process."""
    running: dict[str, RunningMock] = {}

    def get(name: str) -> RunningMock:
        if name not in running:
            running[name] = start_mock(name, log_dir=process_log_dir)
        running[name].reset()
        return running[name]

    yield get
    for mock in running.values():
        mock.stop()


@pytest.fixture
def operator_mock(mock_processes) -> RunningMock:
    return mock_processes("operator")


@pytest.fixture
def rgs_mock(mock_processes) -> RunningMock:
    return mock_processes("rgs")


@pytest.fixture
def backend_mock(mock_processes) -> RunningMock:
    return mock_processes("backend")


@pytest.fixture
def unfrozen():
    """No object frozen by gc.freeze() before the test, and none after it."""
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.fixture
def celery_queue():
    """A queue of this test's own, so no other worker (e.g. `make run`'s) takes its tasks."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    yield queue
    celery_app.conf.task_default_queue = previous


@pytest.fixture
def start_worker(transactional_db, celery_queue, tmp_path):
    workers = []

    def start(**env: str):
        log = tmp_path / f"worker-{len(workers)}.log"
        workers.append(launch_worker(queue=celery_queue, log=log, **env))
        return workers[-1]

    yield start
    for worker in workers:
        stop_process(worker)


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER") == "1" or os.environ.get("CI") == "true":
            pytest.fail(f"REQUIRE_BROWSER=1 or CI but there is no Chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip("needs Debian's chromium package (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API keeps an event loop running
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
            yield chromium
            # With Playwright's loop running, the test's queries went through a connection of their own;
            # left open, it kept the test database from being dropped at the end of the session.
            connections.close_all()
            chromium.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(params=["sql", "orm"])
def hot_statements(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test both ways the hot paths talk to the database: their SQL statements (PostgreSQL,
    `wallet/sql.py`, `webhooks/queue_sql.py`, a new order's one statement in `providers/intake.py`) and
    the ORM queries (the twins left over from SQLite; the outbox takes them while a circuit is open)."""
    from providers import intake
    from wallet import sql as wallet_sql
    from webhooks import queue_sql

    if request.param == "orm":
        monkeypatch.setattr(wallet_sql, "enabled", lambda: False)
        monkeypatch.setattr(queue_sql, "enabled", lambda: False)
        monkeypatch.setattr(intake, "accepts_in_one_statement", lambda: False)
    elif not queue_sql.enabled():
        pytest.skip("the SQL statements are PostgreSQL's; the ORM variant of this test runs here")
    return request.param
