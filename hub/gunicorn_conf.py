"""gunicorn settings shared by make run and docker compose (`-c python:hub.gunicorn_conf`)."""

import os

from prometheus_client import multiprocess

from hub.collector import freeze_loaded_objects

worker_class = "hub.server.Worker"  # gthread, measuring each request's wait for a thread (hub/admission.py)
accesslog = None  # the hub logs each request itself, as JSON with the correlation id
graceful_timeout = 5


def post_worker_init(worker) -> None:
    freeze_loaded_objects()  # the app is loaded now (hub.collector says why)


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
