"""gunicorn settings shared by make run and docker compose (`-c python:hub.gunicorn_conf`)."""

import os

from prometheus_client import multiprocess

accesslog = None  # the hub logs each request itself, as JSON with the correlation id
graceful_timeout = 5


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
