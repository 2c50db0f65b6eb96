from celery import shared_task
from django.conf import settings

from webhooks import nudges
from webhooks.outbox import outbox_deliver, outbox_sweep
from webhooks.retention import outbox_prune


@shared_task
def deliver_message(message_id: int) -> None:
    outbox_deliver(message_ids=[message_id])


@shared_task
def deliver_due(queued_flag: str = "") -> None:
    nudges.deliver_due_started(queued_flag)
    if outbox_deliver() >= settings.OUTBOX_BATCH_SIZE:  # more may be due whose nudges this task absorbed
        nudges.nudge_due()


@shared_task
def sweep_outbox() -> None:
    outbox_sweep()


@shared_task
def prune_outbox() -> None:
    outbox_prune()
