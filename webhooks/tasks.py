from celery import shared_task

from webhooks.outbox import outbox_deliver, outbox_sweep
from webhooks.retention import outbox_prune


@shared_task
def deliver_message(message_id: int) -> None:
    outbox_deliver(message_ids=[message_id])


@shared_task
def deliver_due() -> None:
    outbox_deliver()


@shared_task
def sweep_outbox() -> None:
    outbox_sweep()


@shared_task
def prune_outbox() -> None:
    outbox_prune()
