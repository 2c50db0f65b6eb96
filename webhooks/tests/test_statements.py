"""Each of the outbox's hot statements writes what the ORM writes (`save()`, or the `update()` it stands for)."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from hub.testing import stored
from webhooks import statements
from webhooks.models import DeliveryAttempt, DestinationCircuit, OutboxMessage
from webhooks.tests.factories import DestinationFactory, OutboxMessageFactory

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


def test_enqueue_writes_what_save_writes():
    destination = DestinationFactory(name="rgs")
    now = timezone.now()
    fields = {"event_type": "t", "path": "/p", "ordering_key": "k", "correlation_id": "c", "occurred_at": now}

    fast = statements.enqueue(statements.enqueue_params(event_id="msg_1", destination="rgs", data={"a": [1, "x"]},
                                                        now=now, **fields))
    orm = OutboxMessage(event_id="msg_2", destination=destination, payload={"a": [1, "x"]}, next_attempt_at=now,
                        created_at=now, **fields)
    orm.save()

    assert stored(OutboxMessage, fast, ignore=("id", "event_id")) == stored(OutboxMessage, orm.pk, ignore=("id", "event_id"))


def test_a_claim_leases_as_the_orms_update_and_loads_the_rows_as_the_orm_does():
    destination = DestinationFactory()
    fast, orm = OutboxMessageFactory(destination=destination), OutboxMessageFactory(destination=destination)
    now = timezone.now()

    (claimed,) = statements.claim(now=now, leased_until=now + timedelta(seconds=60), token="t" * 32, limit=1,
                                  message_ids=[fast.id])
    OutboxMessage.objects.filter(pk=orm.pk).update(leased_until=now + timedelta(seconds=60), lease_token="t" * 32)

    ignore = ("id", "event_id", "created_at", "occurred_at", "next_attempt_at")
    assert stored(OutboxMessage, fast.pk, ignore=ignore) == stored(OutboxMessage, orm.pk, ignore=ignore)
    loaded = OutboxMessage.objects.select_related("destination").get(pk=fast.pk)
    assert [getattr(claimed, f.attname) for f in OutboxMessage._meta.concrete_fields] == [
        getattr(loaded, f.attname) for f in OutboxMessage._meta.concrete_fields]
    assert [getattr(claimed.destination, f.attname) for f in destination._meta.concrete_fields] == [
        getattr(loaded.destination, f.attname) for f in destination._meta.concrete_fields]  # secrets decrypted


def test_recording_a_delivered_batch_is_the_orms_writes():
    destination = DestinationFactory()
    DestinationCircuit.objects.create(destination=destination, open_until=timezone.now())
    fast, orm = OutboxMessageFactory(destination=destination), OutboxMessageFactory(destination=destination)
    now = timezone.now()

    statements.record_delivered(now=now, delivered=[fast], attempts=[statements.Attempt(
        message_id=fast.id, destination_id=destination.id, duration_ms=12, status_code=200, excerpt="ok", error="",
        succeeded=True)])
    orm_attempt = DeliveryAttempt.objects.create(message=orm, destination=destination, attempted_at=now, duration_ms=12,
                                                 status_code=200, response_excerpt="ok", error="", succeeded=True)
    OutboxMessage.objects.filter(pk=orm.pk, status=Status.PENDING).update(
        status=Status.DELIVERED, delivered_at=now, attempts=F("attempts") + 1, last_error="", leased_until=None,
        lease_token="")

    ignore = ("id", "event_id", "created_at", "occurred_at", "next_attempt_at")
    assert stored(OutboxMessage, fast.pk, ignore=ignore) == stored(OutboxMessage, orm.pk, ignore=ignore)
    fast_attempt = DeliveryAttempt.objects.get(message=fast)
    assert stored(DeliveryAttempt, fast_attempt.pk, ignore=("id", "message_id")) == stored(
        DeliveryAttempt, orm_attempt.pk, ignore=("id", "message_id"))
    circuit = DestinationCircuit.objects.get(destination=destination)
    assert (circuit.open_until, circuit.probe_until, circuit.closed_at) == (None, None, now)
