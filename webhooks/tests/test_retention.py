from datetime import timedelta

import pytest
from django.utils import timezone

from webhooks.models import DeliveryAttempt, OutboxMessage
from webhooks.retention import outbox_prune
from webhooks.tests.factories import OutboxMessageFactory

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


def test_prune_removes_old_deliveries_and_their_attempts_only():
    long_ago = timezone.now() - timedelta(days=8)
    old = OutboxMessageFactory(status=Status.DELIVERED, delivered_at=long_ago)
    DeliveryAttempt.objects.create(message=old, destination=old.destination, duration_ms=1, succeeded=True)
    recent = OutboxMessageFactory(status=Status.DELIVERED, delivered_at=timezone.now())
    dead = OutboxMessageFactory(status=Status.DEAD_LETTER, created_at=long_ago)

    assert outbox_prune(older_than_days=7) == 1

    assert set(OutboxMessage.objects.values_list("id", flat=True)) == {recent.id, dead.id}
    assert DeliveryAttempt.objects.count() == 0
