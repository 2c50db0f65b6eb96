"""Serve a fake with granian: one worker process (state lives in memory), many blocking threads.

granian, not gunicorn: a fake does little per request, so the server is most of its cost, and on
the 2-core bench machine the fakes' CPU is taken from the hub's (docs/PERFORMANCE.md, seventh
step).
"""

import os
import threading
import time

from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server import Server

from hub.collector import freeze_loaded_objects
from mock_services.framework import MockService

PARENT_CHECK_SECONDS = 1.0


def _exit_when_orphaned(parent_pid: int) -> None:
    """granian's worker outlives a SIGKILLed server process and keeps the port; gunicorn's workers
    watch their parent for the same reason."""
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class MockServer:
    def __init__(self, service: MockService, *, host: str, port: int, threads: int) -> None:
        self.service = service
        # log_level error: granian warns about more than 2 threads per core, which a fake needs
        # for scripted delays.
        self._server = Server(
            f"mock-{service.name}", address=host, port=port, interface=Interfaces.WSGI, workers=1,
            blocking_threads=threads, log_level=LogLevels.error,
        )

    def run(self) -> None:
        server_pid = os.getpid()

        def load_in_worker() -> MockService:
            # The worker is forked from this process: it serves this very object, built here
            # (where its temporary files are removed at exit), instead of importing a target.
            _exit_when_orphaned(server_pid)
            # A full collection in a fake that walks Django holds every request to it for 80-250 ms:
            # in `make bench` the Operator fake's stalled all in-flight debits at once.
            freeze_loaded_objects()
            return self.service

        self._server.serve(target_loader=load_in_worker, wrap_loader=False)
