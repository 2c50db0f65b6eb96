import uuid

import pytest

from hub.celery import app as celery_app
from hub.testing import start_worker as launch_worker
from hub.testing import stop_process


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
