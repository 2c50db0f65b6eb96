from celery import shared_task

from webhooks.outbox import outbox_deliver_due, outbox_deliver_one, outbox_sweep
from webhooks.retention import outbox_prune


@shared_task
def deliver_message(message_id: int) -> None:
    outbox_deliver_one(message_id=message_id)


@shared_task
def deliver_due() -> None:
    outbox_deliver_due()


@shared_task
def sweep_outbox() -> None:
    outbox_sweep()


@shared_task
def prune_outbox() -> None:
    outbox_prune()
