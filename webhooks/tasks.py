"""The outbox's periodic tasks (beat); delivery itself is the dispatchers' (`webhooks.dispatcher`)."""

from celery import shared_task

from webhooks.outbox import outbox_sweep
from webhooks.retention import outbox_prune


@shared_task
def sweep_outbox() -> None:
    outbox_sweep()


@shared_task
def prune_outbox() -> None:
    outbox_prune()
