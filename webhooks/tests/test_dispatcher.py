"""The outbox dispatcher (OUTBOX_TRIGGER=notify): a real `run_outbox_dispatcher` process on PostgreSQL delivers
what is committed, woken by the insert's own NOTIFY, with no Celery worker running; retries and SIGTERM."""

import signal
import time

import pytest
from django.conf import settings
from django.db import connection, transaction

from hub.testing import database_url_of_test_db, start_process, stop_process, subprocess_env, wait_until
from webhooks.models import OutboxMessage
from webhooks.outbox import outbox_enqueue
from webhooks.tests.factories import DestinationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def start_dispatcher(tmp_path, *, idle_seconds: str):
    log = tmp_path / "dispatcher.log"
    process = start_process(["manage.py", "run_outbox_dispatcher"],
                            env=subprocess_env(DATABASE_URL=database_url_of_test_db(), OUTBOX_TRIGGER="notify",
                                               OUTBOX_DISPATCHER_IDLE_SECONDS=idle_seconds), log=log)
    wait_until(lambda: b"listening" in log.read_bytes(), timeout=30, what="the dispatcher", log=log)
    return process


@pytest.fixture
def dispatcher(tmp_path, celery_queue):
    """Idle wake-ups 30 s apart: only a NOTIFY brings it in time."""
    process = start_dispatcher(tmp_path, idle_seconds="30")
    yield process
    stop_process(process)


@pytest.fixture
def polling_dispatcher(tmp_path, celery_queue):
    """Idle wake-ups every 0.5 s: how retries coming due are picked up."""
    process = start_dispatcher(tmp_path, idle_seconds="0.5")
    yield process
    stop_process(process)


def enqueue(ref: str) -> int:
    with transaction.atomic():
        return outbox_enqueue(destination="rgs", event_type="wallet.transaction.completed", data={"refId": ref}).id


def test_the_insert_notifies_at_commit_and_the_dispatcher_delivers_it(rgs_mock, dispatcher):
    DestinationFactory(name="rgs", url=f"{rgs_mock.url}/webhooks", signing_secrets=settings.RGS_WEBHOOK_SECRET)

    message_id = enqueue("ref-1")

    wait_until(lambda: OutboxMessage.objects.get(id=message_id).status == "DELIVERED", timeout=5,
               what="the dispatcher's delivery")
    assert [item["data"]["refId"] for item in rgs_mock.control("webhooks")["items"]] == ["ref-1"]


def test_notifications_that_piled_up_are_one_wake_up_not_one_linger_each(rgs_mock, dispatcher):
    DestinationFactory(name="rgs", url=f"{rgs_mock.url}/webhooks", signing_secrets=settings.RGS_WEBHOOK_SECRET,
                       timeout_seconds=10)
    rgs_mock.script("webhooks", [{"pass": True, "delayMs": 3000}])  # the dispatcher is busy sending the first
    enqueue("first")
    wait_until(lambda: OutboxMessage.objects.filter(leased_until__isnull=False).exists(), timeout=5,
               what="the first claim")

    for n in range(400):  # meanwhile 400 commits, 400 notifications queue up
        enqueue(f"burst-{n}")

    # Handled one by one, with a 10 ms linger each, they took 4 s more; woken once, one claim takes them all.
    wait_until(lambda: OutboxMessage.objects.filter(status="DELIVERED").count() == 401, timeout=30,
               what="the deliveries")
    started = time.monotonic()
    enqueue("last")
    wait_until(lambda: OutboxMessage.objects.filter(status="DELIVERED").count() == 402, timeout=30,
               what="the last delivery")
    assert time.monotonic() - started < 1.0
    assert len(rgs_mock.control("webhooks")["items"]) == 402


def test_a_failed_delivery_is_retried_by_the_dispatcher(rgs_mock, polling_dispatcher):
    DestinationFactory(name="rgs", url=f"{rgs_mock.url}/webhooks", signing_secrets=settings.RGS_WEBHOOK_SECRET,
                       retry_delays=[1])
    rgs_mock.script("webhooks", [{"status": 503}])

    message_id = enqueue("ref-2")

    wait_until(lambda: OutboxMessage.objects.get(id=message_id).status == "DELIVERED", timeout=15,
               what="the retried delivery")
    assert OutboxMessage.objects.get(id=message_id).attempts == 2
    assert [r["status"] for r in rgs_mock.requests("webhooks")] == [503, 200]


def test_the_notify_trigger_exists_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname = 'webhooks_outbox_notify'")
        assert cursor.fetchone() == ("webhooks_outbox_notify",)


def test_sigterm_stops_the_dispatcher(polling_dispatcher):
    polling_dispatcher.send_signal(signal.SIGTERM)

    assert polling_dispatcher.wait(timeout=10) == 0
