"""The Celery app: JSON only, time limits and the DatabaseScheduler come from settings."""

import os

import structlog
from celery import Celery
from celery.signals import beat_init, task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

app = Celery("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_configure.connect
def make_broker_directories(**kwargs) -> None:
    from hub.apps import make_runtime_directories

    make_runtime_directories()


app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def refuse_unsafe_settings(**kwargs) -> None:
    from hub.checks import enforce_safe_settings

    enforce_safe_settings()


@task_prerun.connect
def bind_task_to_logs(task_id=None, task=None, **kwargs) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(task_id=task_id, task=task.name if task else None)


@task_postrun.connect
def unbind_task_from_logs(**kwargs) -> None:
    structlog.contextvars.clear_contextvars()


@task_prerun.connect
@task_postrun.connect
def recycle_database_connections(**kwargs) -> None:
    """Database connections live across tasks as they do across requests: closed when older than
    CONN_MAX_AGE or broken (settings.CELERY_DB_REUSE_MAX keeps Celery from closing them itself), and
    DEBUG's query log emptied."""
    from hub.db import between_units_of_work

    between_units_of_work()
