import gc
import os
import shutil
import uuid

import pytest
from django.db import connections

from hub.celery import app as celery_app
from hub.testing import notify_trigger
from hub.testing import start_dispatcher as launch_dispatcher
from hub.testing import start_worker as launch_worker
from hub.testing import stop_process
from mock_services.testing import RunningMock, start_mock

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"]


def pytest_configure(config: pytest.Config) -> None:
    """This process wakes the dispatchers the tests start as a hub process does (a NOTIFY per linger,
    after commit), but closes its nudge thread's connection after each: it must not outlive the test
    database."""
    from webhooks import nudges

    nudges.install_trigger(notify_trigger(linger_seconds=nudges.LINGER_SECONDS))


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
    """Start what works in the background of a hub: a Celery worker (its tasks) and an outbox dispatcher
    (every delivery); returns the dispatcher, which a test may kill mid-delivery."""
    processes = []

    def start(**env: str):
        number = len(processes) // 2
        processes.append(launch_worker(queue=celery_queue, log=tmp_path / f"worker-{number}.log", **env))
        processes.append(launch_dispatcher(log=tmp_path / f"dispatcher-{number}.log", **env))
        return processes[-1]

    yield start
    for process in processes:
        stop_process(process)


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
