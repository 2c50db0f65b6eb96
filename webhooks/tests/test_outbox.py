"""Outbox services with HTTP mocked at the transport seam (`responses`)."""

import json
from datetime import timedelta

import pytest
import requests
import responses
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from webhooks.dispatcher import plan_per_call
from webhooks.delivery import DeliveryResult
from webhooks.models import DeliveryAttempt, OutboxMessage
from webhooks.claims import claim_due, record_outcomes
from webhooks.outbox import outbox_deliver, outbox_enqueue, outbox_sweep
from webhooks.tests.factories import NEW_SECRET, RGS_SECRET, DestinationFactory, OutboxMessageFactory
from hub.testing import mock_http

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status
URL = "http://127.0.0.1:9/webhooks"


@pytest.fixture
def http():
    with mock_http(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_enqueue_is_part_of_the_callers_transaction(django_capture_on_commit_callbacks):
    DestinationFactory(name="rgs")

    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_enqueue(destination="rgs", event_type="t", data={})
        raise RuntimeError("the cause rolls back")
    assert OutboxMessage.objects.count() == 0

    with django_capture_on_commit_callbacks() as callbacks:
        enqueued = outbox_enqueue(destination="rgs", event_type="t", data={"a": 1}, ordering_key="k")
    assert len(callbacks) == 1  # the after-commit hand-off to a worker
    message = OutboxMessage.objects.get(id=enqueued.id)
    assert (message.status, message.attempts, message.event_id[:4]) == (Status.PENDING, 0, "msg_")


def test_a_delivery_is_signed_enveloped_and_recorded(http):
    destination = DestinationFactory(signing_secrets=f"{RGS_SECRET},{NEW_SECRET}", auth_header_name="X-AUTH",
                                     auth_header_value="backend-key")
    message = OutboxMessageFactory(destination=destination, correlation_id="corr-1", payload={"refId": "r-9"})
    http.post(URL, status=200, body="ok " * 2000)

    assert outbox_deliver(message_ids=[message.id]) == 1

    sent = http.calls[0].request
    body = sent.body.decode()
    assert json.loads(body) == {
        "id": message.event_id, "type": "wallet.transaction.completed",
        "occurredAt": message.occurred_at.isoformat().replace("+00:00", "Z"), "data": {"refId": "r-9"},
    }
    headers = {k.lower(): v for k, v in sent.headers.items()}
    assert headers["webhook-id"] == message.event_id
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (RGS_SECRET, NEW_SECRET):  # either side of a rotation verifies
        Webhook(secret).verify(body, headers)
    assert (headers["x-auth"], headers["x-correlation-id"]) == ("backend-key", "corr-1")

    message.refresh_from_db()
    assert (message.status, message.attempts, message.lease_token) == (Status.DELIVERED, 1, "")
    attempt = message.delivery_attempts.get()
    assert (attempt.succeeded, attempt.status_code, len(attempt.response_excerpt)) == (True, 200, 2048)


def test_a_failure_schedules_the_next_retry_with_jitter(http):
    message = OutboxMessageFactory()
    http.post(URL, status=500, body="boom")
    before = timezone.now()

    outbox_deliver(message_ids=[message.id])

    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (Status.PENDING, 1, "HTTP 500")
    assert before + timedelta(seconds=0.8) <= message.next_attempt_at <= timezone.now() + timedelta(seconds=1.2)
    assert message.delivery_attempts.get().response_excerpt == "boom"
    assert outbox_deliver(message_ids=[message.id]) == 0  # not due yet


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(http, status):
    message = OutboxMessageFactory()
    http.post(URL, status=status, headers={"Retry-After": "120"})

    outbox_deliver(message_ids=[message.id])

    message.refresh_from_db()
    assert message.next_attempt_at >= timezone.now() + timedelta(seconds=119)


def test_redirects_are_not_followed(http):
    message = OutboxMessageFactory()
    http.post(URL, status=302, headers={"Location": "http://127.0.0.1:9/elsewhere"})

    outbox_deliver(message_ids=[message.id])

    assert len(http.calls) == 1
    message.refresh_from_db()
    assert (message.status, message.last_error) == (Status.PENDING, "HTTP 302")


def test_timeouts_and_connection_errors_are_failed_attempts(http):
    message = OutboxMessageFactory()
    http.post(URL, body=requests.exceptions.ReadTimeout("read timed out"))

    outbox_deliver(message_ids=[message.id])

    attempt = DeliveryAttempt.objects.get()
    assert (attempt.succeeded, attempt.status_code) == (False, None)
    assert attempt.error.startswith("ReadTimeout")


def test_the_last_allowed_attempt_dead_letters(http):
    message = OutboxMessageFactory(destination=DestinationFactory(max_attempts=3), attempts=2)
    http.post(URL, status=500)

    outbox_deliver(message_ids=[message.id])

    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.DEAD_LETTER, 3)


def test_a_leased_message_is_not_claimed_twice_until_the_lease_runs_out(settings):
    message = OutboxMessageFactory()
    first = claim_due(limit=10)

    assert [c.message.id for c in first] == [message.id]
    assert claim_due(limit=10) == []
    OutboxMessage.objects.filter(id=message.id).update(leased_until=timezone.now() - timedelta(seconds=1))
    second = claim_due(limit=10)
    assert [c.message.id for c in second] == [message.id]
    assert second[0].token != first[0].token


def test_a_stale_lease_holder_cannot_move_the_message_on():
    message = OutboxMessageFactory()
    stale = claim_due(limit=1)[0]
    OutboxMessage.objects.filter(id=message.id).update(leased_until=timezone.now() - timedelta(seconds=1))
    claim_due(limit=1)  # someone else holds it now

    record_outcomes([(stale, DeliveryResult(succeeded=False, duration_ms=5, status_code=500, error="HTTP 500"))])

    message.refresh_from_db()
    assert (message.attempts, message.status) == (0, Status.PENDING)
    assert DeliveryAttempt.objects.count() == 1  # the attempt itself is still on record


def test_disabled_destinations_wait():
    OutboxMessageFactory(destination=DestinationFactory(enabled=False))

    assert claim_due(limit=10) == []


def test_messages_sharing_an_ordering_key_go_one_at_a_time_in_order(http):
    destination = DestinationFactory()
    first, second = (OutboxMessageFactory(destination=destination, ordering_key="order-1") for _ in range(2))
    other = OutboxMessageFactory(destination=destination, ordering_key="order-2")
    http.post(URL, status=500)

    assert sorted(c.message.id for c in claim_due(limit=10)) == [first.id, other.id]
    OutboxMessage.objects.update(leased_until=None, lease_token="")
    outbox_deliver(message_ids=[first.id])  # fails: stays pending, retry later
    OutboxMessage.objects.filter(id=first.id).update(next_attempt_at=timezone.now() + timedelta(hours=1))

    assert outbox_deliver(message_ids=[second.id]) == 0  # still waits behind the first

    http.replace(responses.POST, URL, status=200)
    OutboxMessage.objects.filter(id=first.id).update(next_attempt_at=timezone.now())
    assert outbox_sweep(budget_seconds=5) == 3  # first, then second once first is delivered, and other
    order = [json.loads(call.request.body)["id"] for call in http.calls if call.response.status_code == 200]
    assert order.index(first.event_id) < order.index(second.event_id)


def test_a_dead_lettered_message_no_longer_blocks_its_ordering_key(http):
    destination = DestinationFactory(max_attempts=1)
    first = OutboxMessageFactory(destination=destination, ordering_key="order-1")
    second = OutboxMessageFactory(destination=destination, ordering_key="order-1")
    http.post(URL, status=500)

    outbox_deliver(message_ids=[first.id])

    first.refresh_from_db()
    assert first.status == Status.DEAD_LETTER
    assert [c.message.id for c in claim_due(limit=10)] == [second.id]


def test_a_batch_is_recorded_in_one_transaction_whatever_its_size(http, django_assert_max_num_queries):
    destination = DestinationFactory()
    messages = [OutboxMessageFactory(destination=destination) for _ in range(40)]
    http.post(URL, status=200)

    # claim (circuit gate, lock, lease, read) + record (attempts, one update, circuit) + transactions;
    # one query per message would be 40 more.
    with django_assert_max_num_queries(12):
        assert outbox_deliver(message_ids=[message.id for message in messages]) == 40

    assert OutboxMessage.objects.filter(status=Status.DELIVERED, attempts=1).count() == 40
    assert DeliveryAttempt.objects.filter(succeeded=True).count() == 40
    assert len(http.calls) == 40


def test_a_delivered_batch_is_two_statements_and_no_transaction(http, django_assert_num_queries):
    destination = DestinationFactory()
    messages = [OutboxMessageFactory(destination=destination, ordering_key=f"k{n % 3}") for n in range(9)]
    http.post(URL, status=200)

    # claim (open circuits, lock, lease and the destinations in one), record (attempts, deliveries, circuits
    # and the next message of each ordering key in one)
    with django_assert_num_queries(2):
        assert outbox_deliver() == 3  # the head of each ordering key

    delivered = OutboxMessage.objects.filter(status=Status.DELIVERED)
    assert sorted(delivered.values_list("id", flat=True)) == [message.id for message in messages[:3]]
    assert DeliveryAttempt.objects.filter(succeeded=True, destination=destination).count() == 3
    assert outbox_deliver() == 3  # the next of each key is now first in line
    assert [message.status for message in OutboxMessage.objects.order_by("id")] == [Status.DELIVERED] * 6 + [
        Status.PENDING] * 3


def test_a_dispatchers_connections_plan_every_claim(django_assert_num_queries):
    """`dispatch` connects `plan_per_call` to `connection_created`: each new connection of the process."""
    def plan_cache_mode() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW plan_cache_mode")
            return cursor.fetchone()[0]

    with connection.cursor() as cursor:  # as a new connection starts
        cursor.execute("RESET plan_cache_mode")
    assert plan_cache_mode() == "auto"

    plan_per_call(connection=connection)

    assert plan_cache_mode() == "force_custom_plan"
    with django_assert_num_queries(1):  # nothing more per claim
        assert outbox_deliver() == 0


def test_a_batch_with_failures_moves_each_message_its_own_way(http):
    destination = DestinationFactory(max_attempts=2)
    ok = OutboxMessageFactory(destination=destination, payload={"n": "ok"})
    failing = OutboxMessageFactory(destination=destination, payload={"n": "fail"})
    last_try = OutboxMessageFactory(destination=destination, payload={"n": "fail"}, attempts=1)
    http.add_callback(responses.POST, URL, callback=lambda request: (
        500 if json.loads(request.body)["data"]["n"] == "fail" else 200, {}, ""))

    assert outbox_deliver(message_ids=[ok.id, failing.id, last_try.id]) == 3

    statuses = dict(OutboxMessage.objects.values_list("id", "status"))
    assert statuses == {ok.id: Status.DELIVERED, failing.id: Status.PENDING, last_try.id: Status.DEAD_LETTER}
    failing.refresh_from_db()
    assert (failing.attempts, failing.last_error, failing.lease_token) == (1, "HTTP 500", "")
    assert DeliveryAttempt.objects.filter(succeeded=False).count() == 2


def test_a_delivery_nudges_the_next_message_of_its_ordering_key(http, django_capture_on_commit_callbacks):
    destination = DestinationFactory()
    first, second, third = (OutboxMessageFactory(destination=destination, ordering_key="player:1") for _ in range(3))
    http.post(URL, status=200)

    with django_capture_on_commit_callbacks() as callbacks:
        outbox_deliver(message_ids=[first.id, second.id, third.id])  # only the head of the line goes

    assert list(OutboxMessage.objects.filter(status=Status.DELIVERED).values_list("id", flat=True)) == [first.id]
    assert [callback.args for callback in callbacks] == [(second.id,)]


def test_a_nudge_delivers_one_batch_of_whatever_is_due(http, settings):
    settings.OUTBOX_BATCH_SIZE = 3
    destination = DestinationFactory()
    due = [OutboxMessageFactory(destination=destination) for _ in range(5)]
    later = OutboxMessageFactory(destination=destination, next_attempt_at=timezone.now() + timedelta(minutes=5))
    http.post(URL, status=200)

    assert [outbox_deliver() for _ in range(3)] == [3, 2, 0]

    delivered = set(OutboxMessage.objects.filter(status=Status.DELIVERED).values_list("id", flat=True))
    assert delivered == {message.id for message in due}
    assert OutboxMessage.objects.get(id=later.id).status == Status.PENDING


def test_a_message_that_cannot_be_sent_fails_on_its_own_without_holding_its_batch(http, monkeypatch):
    from webhooks import delivery

    destination = DestinationFactory(url=URL)
    broken, fine = OutboxMessageFactory(destination=destination), OutboxMessageFactory(destination=destination)
    real_envelope = delivery.envelope_body

    def envelope(message):
        if message.id == broken.id:
            return '{"data":"\ud800"}'  # a lone surrogate: UTF-8 cannot encode it
        return real_envelope(message)

    monkeypatch.setattr(delivery, "envelope_body", envelope)
    http.post(URL, status=200)

    assert outbox_deliver() == 2

    broken.refresh_from_db()
    fine.refresh_from_db()
    assert (fine.status, fine.attempts) == (Status.DELIVERED, 1)
    assert (broken.status, broken.attempts) == (Status.DEAD_LETTER, 1)
    assert broken.last_error.startswith("cannot be sent: UnicodeEncodeError")
    assert len(http.calls) == 1
    assert outbox_deliver() == 0  # never claimed again
