from celery import shared_task

from webhooks.outbox import outbox_deliver_ids, outbox_deliver_one, outbox_sweep
from webhooks.retention import outbox_prune


@shared_task
def deliver_message(message_id: int) -> None:
    outbox_deliver_one(message_id=message_id)


@shared_task
def deliver_messages(message_ids: list[int]) -> None:
    outbox_deliver_ids(message_ids=message_ids)


@shared_task
def sweep_outbox() -> None:
    outbox_sweep()


@shared_task
def prune_outbox() -> None:
    outbox_prune()
