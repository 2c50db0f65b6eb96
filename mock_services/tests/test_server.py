"""The fakes' server process: over real HTTP, what happens when it or its worker is killed; in
process, what its worker does before it serves."""

import contextlib
import gc
import os
import signal

import pytest
from granian.server import Server

from hub.testing import child_pids, http_ok, wait_until
from mock_services import server
from mock_services.framework import MockService
from mock_services.server import MockServer
from mock_services.testing import start_mock

pytestmark = pytest.mark.e2e


def test_a_sigkilled_server_takes_its_worker_and_the_port_with_it(tmp_path):
    mock = start_mock("rgs", log_dir=tmp_path)
    worker = child_pids(mock.process.pid)[0]
    try:
        os.kill(mock.process.pid, signal.SIGKILL)
        mock.process.wait()

        wait_until(lambda: not http_ok(f"{mock.url}/__control/requests"), timeout=10, what="the orphaned worker to exit")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)


def test_the_server_exits_when_its_worker_dies(tmp_path):
    """So that `hub.supervise` (make run) starts the fake again, with a fresh state."""
    mock = start_mock("rgs", log_dir=tmp_path)
    try:
        os.kill(child_pids(mock.process.pid)[0], signal.SIGKILL)

        assert mock.process.wait(timeout=10) != 0
    finally:
        mock.stop()


def test_the_worker_freezes_what_it_loaded_before_it_serves(monkeypatch, unfrozen):
    """In process: granian's serve() would fork and call the loader in its worker."""
    loaded = []
    monkeypatch.setattr(server, "_exit_when_orphaned", lambda parent_pid: None)
    monkeypatch.setattr(Server, "serve", lambda self, target_loader, wrap_loader: loaded.append(target_loader()))
    service = MockService()

    MockServer(service, host="127.0.0.1", port=0, threads=1).run()

    assert loaded == [service]
    assert gc.get_freeze_count() > 50_000  # Django and the apps, as loaded by this test process
