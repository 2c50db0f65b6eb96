"""The outbox with a real Celery worker, the real broker and the RGS fake over HTTP."""

import os
import signal
import subprocess
import sys
import threading

import pytest
from django.conf import settings
from django.db import connection, transaction

from hub.testing import BASE_DIR, database_url_of_test_db, subprocess_env, wait_until
from mock_services.testing import start_mock
from webhooks.models import DeliveryAttempt, Destination, OutboxMessage
from webhooks.nudges import nudge
from webhooks.outbox import outbox_enqueue, outbox_sweep
from webhooks.tests.factories import NEW_SECRET, RGS_SECRET, OutboxMessageFactory

pytestmark = pytest.mark.e2e
Status = OutboxMessage.Status


def rgs_destination(mock, **fields) -> Destination:
    defaults = {"signing_secrets": settings.RGS_WEBHOOK_SECRET, "retry_delays": [1, 5, 15, 60, 300], "max_attempts": 6}
    return Destination.objects.create(name="rgs", url=f"{mock.url}/webhooks", **{**defaults, **fields})


def enqueue(event_type: str = "wallet.transaction.completed") -> OutboxMessage:
    with transaction.atomic():
        enqueued = outbox_enqueue(destination="rgs", event_type=event_type, data={"refId": "r-1", "amountCents": 150})
    return OutboxMessage.objects.get(id=enqueued.id)


def wait_for_status(message: OutboxMessage, status: str, timeout: float = 30, log=None) -> OutboxMessage:
    wait_until(lambda: OutboxMessage.objects.get(id=message.id).status == status, timeout=timeout,
               what=f"message {message.event_id} to be {status}", log=log)
    return OutboxMessage.objects.get(id=message.id)


def test_a_500_then_200_is_one_delivery_after_two_attempts_with_one_webhook_id(rgs_mock, start_worker):
    rgs_destination(rgs_mock)
    rgs_mock.script("webhooks", [{"status": 500}])
    start_worker()

    message = wait_for_status(enqueue(), Status.DELIVERED)

    received = rgs_mock.requests("webhooks")
    assert [r["status"] for r in received] == [500, 200]
    assert {r["headers"]["Webhook-Id"] for r in received} == {message.event_id}
    accepted = rgs_mock.control("webhooks")
    assert (accepted["distinct"], accepted["deliveries"], accepted["items"][0]["webhookId"]) == (1, 1, message.event_id)
    assert list(message.delivery_attempts.order_by("id").values_list("status_code", flat=True)) == [500, 200]
    assert message.attempts == 2


def test_dead_letter_after_the_budget_then_the_cli_replay_delivers_with_the_same_id(rgs_mock, start_worker, celery_queue):
    rgs_destination(rgs_mock, retry_delays=[0.2], max_attempts=3)
    rgs_mock.script("webhooks", [{"status": 500}] * 3)
    start_worker()

    dead = wait_for_status(enqueue(), Status.DEAD_LETTER)
    assert dead.attempts == 3
    assert rgs_mock.control("webhooks")["distinct"] == 0

    replay = subprocess.run(
        [sys.executable, "manage.py", "replay_dead_letters", "--destination", "rgs"],
        cwd=BASE_DIR, capture_output=True, text=True, timeout=60,
        env=subprocess_env(DATABASE_URL=database_url_of_test_db(), CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
                           CELERY_TASK_DEFAULT_QUEUE=celery_queue),
    )
    assert "replayed 1 dead-lettered messages" in replay.stdout, replay.stderr

    delivered = wait_for_status(dead, Status.DELIVERED)
    accepted = rgs_mock.control("webhooks")
    assert (accepted["distinct"], accepted["items"][0]["webhookId"]) == (1, dead.event_id)
    assert {r["headers"]["Webhook-Id"] for r in rgs_mock.requests("webhooks")} == {dead.event_id}
    assert delivered.delivery_attempts.count() == 4


def test_a_worker_killed_mid_delivery_loses_nothing(rgs_mock, start_worker):
    rgs_destination(rgs_mock)
    rgs_mock.script("webhooks", [{"pass": True, "delayMs": 4000}])
    first = start_worker(OUTBOX_LEASE_SECONDS="3")
    message = enqueue()
    wait_until(lambda: len(rgs_mock.requests("webhooks")) == 1, timeout=30, what="the first delivery to start")

    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert OutboxMessage.objects.get(id=message.id).status == Status.PENDING

    start_worker(OUTBOX_LEASE_SECONDS="3")

    def redelivered() -> bool:
        nudge()  # the new dispatcher looks now, not at its next idle wake-up
        return OutboxMessage.objects.get(id=message.id).status == Status.DELIVERED

    wait_until(redelivered, timeout=40, what="the message to be delivered after the lease ran out")
    accepted = rgs_mock.control("webhooks")
    assert (accepted["distinct"], accepted["items"][0]["webhookId"]) == (1, message.event_id)


def test_signatures_follow_a_secret_rotation(process_log_dir, start_worker):
    receiver = start_mock("rgs", log_dir=process_log_dir, RGS_WEBHOOK_SECRET=NEW_SECRET)  # the RGS already switched
    try:
        destination = rgs_destination(receiver, signing_secrets=f"{RGS_SECRET},{NEW_SECRET}", max_attempts=1)
        start_worker()
        rotated = wait_for_status(enqueue(), Status.DELIVERED)
        destination.signing_secrets = RGS_SECRET  # the old secret alone no longer verifies
        destination.save()
        refused = wait_for_status(enqueue(), Status.DEAD_LETTER)
        accepted = receiver.control("webhooks")
    finally:
        receiver.stop()

    assert (accepted["distinct"], accepted["items"][0]["webhookId"]) == (1, rotated.event_id)
    assert rotated.delivery_attempts.get().status_code == 200
    assert refused.delivery_attempts.get().status_code == 401


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweepers_deliver_each_message_exactly_once(rgs_mock):
    destination = rgs_destination(rgs_mock)
    messages = OutboxMessageFactory.create_batch(150, destination=destination)
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def sweeper() -> None:
        try:
            barrier.wait()
            outbox_sweep(budget_seconds=30)
        except BaseException as exc:  # collected and asserted below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert OutboxMessage.objects.filter(status=Status.DELIVERED).count() == len(messages)
    assert DeliveryAttempt.objects.count() == len(messages)
    accepted = rgs_mock.control("webhooks")
    assert (accepted["distinct"], accepted["deliveries"]) == (150, 150)
