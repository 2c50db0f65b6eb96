"""The breaker opens on the failure rate, holds messages without charging them, probes once."""

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from webhooks.models import DeliveryAttempt, DestinationCircuit, OutboxMessage
from webhooks.claims import claim_due
from webhooks.outbox import outbox_deliver, outbox_sweep
from webhooks.tests.factories import DestinationFactory, OutboxMessageFactory
from hub.testing import mock_http

pytestmark = pytest.mark.django_db
URL = "http://127.0.0.1:9/webhooks"


@pytest.fixture
def http():
    with mock_http(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def destination(settings):
    settings.CIRCUIT_BREAKER_ERROR_THRESHOLD = 50
    settings.CIRCUIT_BREAKER_MIN_ATTEMPTS = 10
    settings.CIRCUIT_BREAKER_RESET_TIMEOUT = 30000
    return DestinationFactory(retry_delays=[3600])


def fail_messages(destination, count: int) -> None:
    for _ in range(count):
        outbox_deliver(message_ids=[OutboxMessageFactory.create(destination=destination).id])


def open_until(destination):
    return DestinationCircuit.objects.get(destination=destination).open_until


def test_stays_closed_below_the_minimum_number_of_attempts(http, destination):
    http.post(URL, status=500)

    fail_messages(destination, 9)

    assert open_until(destination) is None


def test_opens_at_the_threshold_and_holds_messages_without_charging_them(http, destination):
    http.post(URL, status=500)
    fail_messages(destination, 10)
    assert open_until(destination) > timezone.now() + timedelta(seconds=29)

    waiting = OutboxMessageFactory(destination=destination)
    assert outbox_sweep(budget_seconds=2) == 0
    waiting.refresh_from_db()
    assert (waiting.attempts, waiting.status) == (0, OutboxMessage.Status.PENDING)
    assert len(http.calls) == 10


def test_successes_keep_it_closed(http, destination):
    http.post(URL, status=500)
    fail_messages(destination, 4)
    http.replace(responses.POST, URL, status=200)

    fail_messages(destination, 6)  # 4 of 10 failed: 40 % < 50 %

    assert open_until(destination) is None


def test_half_open_lets_exactly_one_probe_through_and_a_success_closes(http, destination):
    http.post(URL, status=500)
    fail_messages(destination, 10)
    DestinationCircuit.objects.filter(destination=destination).update(open_until=timezone.now() - timedelta(seconds=1))
    waiting = [OutboxMessageFactory(destination=destination) for _ in range(3)]

    probe = claim_due(limit=10)
    assert [c.message.id for c in probe] == [waiting[0].id]
    assert claim_due(limit=10) == []  # a second claimant gets nothing while the probe is out

    http.replace(responses.POST, URL, status=200)
    OutboxMessage.objects.update(leased_until=None, lease_token="")
    DestinationCircuit.objects.filter(destination=destination).update(probe_until=None)
    assert outbox_deliver(message_ids=[waiting[0].id])
    assert open_until(destination) is None
    assert outbox_sweep(budget_seconds=2) == 2  # the rest flows again


def test_a_failed_probe_opens_it_again(http, destination):
    http.post(URL, status=500)
    fail_messages(destination, 10)
    DestinationCircuit.objects.filter(destination=destination).update(open_until=timezone.now() - timedelta(seconds=1))
    OutboxMessageFactory(destination=destination)

    assert outbox_sweep(budget_seconds=2) == 1

    assert open_until(destination) > timezone.now() + timedelta(seconds=29)
    assert DeliveryAttempt.objects.count() == 11


def test_other_destinations_are_not_affected(http, destination):
    healthy = DestinationFactory(url="http://127.0.0.1:9/healthy")
    http.post(URL, status=500)
    http.post("http://127.0.0.1:9/healthy", status=200)
    fail_messages(destination, 10)

    OutboxMessageFactory(destination=healthy)

    assert outbox_sweep(budget_seconds=2) == 1
