"""Delivered messages and their attempts are kept `OUTBOX_RETENTION_DAYS`; dead letters stay."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webhooks.models import DeliveryAttempt, OutboxMessage

BATCH = 5000


def outbox_prune(*, older_than_days: int | None = None) -> int:
    """Delete in short batches so a large backlog never holds a long transaction."""
    days = settings.OUTBOX_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    expired = OutboxMessage.objects.filter(status=OutboxMessage.Status.DELIVERED, delivered_at__lt=cutoff)
    deleted = 0
    while ids := list(expired.values_list("id", flat=True)[:BATCH]):
        with transaction.atomic():
            DeliveryAttempt.objects.filter(message_id__in=ids).delete()
            deleted += OutboxMessage.objects.filter(id__in=ids).delete()[1].get("webhooks.OutboxMessage", 0)
    return deleted
