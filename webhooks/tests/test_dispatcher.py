"""The outbox dispatcher: a real `run_outbox_dispatcher` process on PostgreSQL delivers
what is committed, woken by the nudge thread's NOTIFY after commit, with no Celery worker running; batches
in flight side by side, retries and SIGTERM."""

import signal
import time
from collections import Counter

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction

from hub.testing import database_url_of_test_db, stop_process, wait_until
from hub.testing import notify_trigger
from hub.testing import start_dispatcher as launch_dispatcher
from hub.tests.test_attention import panel_rows
from hub.tests.test_metrics import sample
from webhooks import nudges
from webhooks.dispatcher import Linger
from webhooks.models import OutboxMessage
from webhooks.outbox import outbox_enqueue
from webhooks.selectors import listening_dispatchers
from webhooks.tests.factories import DestinationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def start_dispatcher(tmp_path, *, idle_seconds: str, **settings: str):
    return launch_dispatcher(log=tmp_path / "dispatcher.log", OUTBOX_DISPATCHER_IDLE_SECONDS=idle_seconds, **settings)


def listening():
    listener = psycopg.connect(database_url_of_test_db().replace("postgres://", "postgresql://"), autocommit=True)
    listener.execute(f"LISTEN {nudges.NOTIFY_CHANNEL}")
    return listener


def notifications(listener, *, within: float) -> int:
    return sum(1 for _ in listener.notifies(timeout=within))


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


def test_a_commit_notifies_and_the_dispatcher_delivers_it(rgs_mock, dispatcher):
    DestinationFactory(name="rgs", url=f"{rgs_mock.url}/webhooks", signing_secrets=settings.RGS_WEBHOOK_SECRET)

    message_id = enqueue("ref-1")

    wait_until(lambda: OutboxMessage.objects.get(id=message_id).status == "DELIVERED", timeout=5,
               what="the dispatcher's delivery")
    assert [item["data"]["refId"] for item in rgs_mock.control("webhooks")["items"]] == ["ref-1"]


def batch_sizes(message_ids: list[int]) -> list[int]:
    """How many of these messages each batch delivered (a batch records its deliveries with one timestamp)."""
    delivered = OutboxMessage.objects.filter(id__in=message_ids, status="DELIVERED")
    return sorted(Counter(delivered.values_list("delivered_at", flat=True)).values())


def test_a_lone_webhook_leaves_alone_and_under_load_batches_grow(rgs_mock, tmp_path, celery_queue):
    DestinationFactory(name="rgs", url=f"{rgs_mock.url}/webhooks", signing_secrets=settings.RGS_WEBHOOK_SECRET)
    process = start_dispatcher(tmp_path, idle_seconds="30")
    try:
        lone = enqueue("lone")
        wait_until(lambda: OutboxMessage.objects.get(id=lone).status == "DELIVERED", timeout=5, what="the lone one")
        time.sleep(0.4)  # quiet again: the next notification comes long after the last linger ended

        steady = []
        for n in range(40):  # ~65 commits a second for 0.6 s
            steady.append(enqueue(f"steady-{n}"))
            time.sleep(0.015)
        wait_until(lambda: len(batch_sizes(steady)) and sum(batch_sizes(steady)) == 40, timeout=10,
                   what="the steady stream's deliveries")
    finally:
        stop_process(process)

    assert batch_sizes([lone]) == [1]
    assert len(batch_sizes(steady)) <= 10, batch_sizes(steady)  # the quiet linger alone: one batch per commit or two


def test_a_wake_up_soon_after_the_last_linger_lingers_longer():
    linger = Linger(quiet_seconds=0.01, busy_seconds=0.1, busy_within_seconds=0.05)

    # lingers end at 100.01, 100.13, 100.27; 100.5 comes 0.23 s after the last; 100.52 soon after 100.51
    assert [linger.woken(now) for now in (100.0, 100.03, 100.17, 100.5, 100.52)] == [0.01, 0.1, 0.1, 0.01, 0.1]


def test_the_commits_of_one_linger_share_one_notify_sent_after_commit():
    DestinationFactory(name="rgs")
    started_with = nudges._trigger
    nudges.install_trigger(notify_trigger(linger_seconds=0.5))
    listener = listening()
    try:
        with transaction.atomic():
            enqueue("inside")
            assert notifications(listener, within=0.3) == 0  # nothing before the commit
        assert notifications(listener, within=1.0) == 1

        for n in range(50):
            enqueue(f"burst-{n}")
        assert 1 <= notifications(listener, within=1.5) <= 3  # not 50
    finally:
        listener.close()
        nudges.install_trigger(started_with)


def test_a_commit_sends_no_notify_of_its_own():
    """The NOTIFY comes from the nudge thread after commit, never from the insert (an insert trigger until
    migration 0007 made every commit queue on PostgreSQL's notify lock)."""
    DestinationFactory(name="rgs")
    started_with = nudges._trigger
    nudges.install_trigger(nudges.NudgeSender(lambda ids: None))
    listener = listening()
    try:
        enqueue("quiet")
        assert notifications(listener, within=0.5) == 0  # no insert trigger left (migration 0007)
    finally:
        listener.close()
        nudges.install_trigger(started_with)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'webhooks_outbox_notify'")
        assert cursor.fetchone() == (0,)


def test_while_one_batch_waits_for_a_slow_receiver_the_next_is_delivered(rgs_mock, dispatcher):
    DestinationFactory(name="rgs", url=f"{rgs_mock.url}/webhooks", signing_secrets=settings.RGS_WEBHOOK_SECRET,
                       timeout_seconds=10)
    rgs_mock.script("webhooks", [{"pass": True, "delayMs": 4000}])
    slow = enqueue("slow")
    wait_until(lambda: OutboxMessage.objects.filter(id=slow, leased_until__isnull=False).exists(), timeout=5,
               what="the first claim")

    started = time.monotonic()
    quick = enqueue("quick")
    wait_until(lambda: OutboxMessage.objects.get(id=quick).status == "DELIVERED", timeout=10,
               what="the second batch")

    assert time.monotonic() - started < 2.0  # one batch at a time would wait for the slow one (4 s)
    assert OutboxMessage.objects.get(id=slow).status == "PENDING"
    wait_until(lambda: OutboxMessage.objects.get(id=slow).status == "DELIVERED", timeout=10, what="the slow one")


def test_notifications_that_piled_up_are_one_wake_up_not_one_claim_each():
    from webhooks.dispatcher import _drop_queued, _woken

    listener = listening()
    try:
        with connection.cursor() as cursor:  # many processes' nudges, queued while the dispatcher was busy
            for n in range(400):
                cursor.execute(f"NOTIFY {nudges.NOTIFY_CHANNEL}, '{n}'")  # distinct payloads: not folded

        assert _woken(listener, timeout=1.0)
        time.sleep(0.2)  # the dispatcher lingers before it drops: the notifications still in transit arrive
        _drop_queued(listener)
        assert not _woken(listener, timeout=0.2)  # the next claim takes all their messages: no 399 more
    finally:
        listener.close()


def test_a_failed_delivery_is_retried_by_the_dispatcher(rgs_mock, polling_dispatcher):
    DestinationFactory(name="rgs", url=f"{rgs_mock.url}/webhooks", signing_secrets=settings.RGS_WEBHOOK_SECRET,
                       retry_delays=[1])
    rgs_mock.script("webhooks", [{"status": 503}])

    message_id = enqueue("ref-2")

    wait_until(lambda: OutboxMessage.objects.get(id=message_id).status == "DELIVERED", timeout=15,
               what="the retried delivery")
    assert OutboxMessage.objects.get(id=message_id).attempts == 2
    assert [r["status"] for r in rgs_mock.requests("webhooks")] == [503, 200]


def test_sigterm_stops_the_dispatcher(polling_dispatcher):
    polling_dispatcher.send_signal(signal.SIGTERM)

    assert polling_dispatcher.wait(timeout=10) == 0


def test_operators_see_whether_a_dispatcher_listens(tmp_path, admin_client, settings):
    def shown() -> tuple[tuple[str, bool], float]:
        figure = panel_rows(admin_client.get("/admin/").content.decode())["Dispatchers listening"]
        return figure[0::2], sample(admin_client.get("/metrics").content.decode(), "hub_outbox_dispatchers_listening")

    assert listening_dispatchers() == 0
    assert shown() == (("0", True), 0.0)
    process = start_dispatcher(tmp_path, idle_seconds="30")
    try:
        assert listening_dispatchers() == 1
        assert shown() == (("1", False), 1.0)
    finally:
        stop_process(process)
    wait_until(lambda: listening_dispatchers() == 0, timeout=5, what="the listener's disconnection")


def test_every_batch_starts_as_a_request_does(monkeypatch, settings):
    """The runner empties DEBUG's query log and recycles old connections before each batch."""
    import threading

    from webhooks import dispatcher as module

    calls: list[str] = []
    batches = iter([settings.OUTBOX_BATCH_SIZE, settings.OUTBOX_BATCH_SIZE, 0])
    monkeypatch.setattr(module, "between_units_of_work", lambda: calls.append("reset"))
    monkeypatch.setattr(module, "outbox_deliver", lambda: calls.append("batch") or next(batches))
    runners = module._Runners(1, threading.Event())

    runners.start_draining()
    runners.close()

    assert calls == ["reset", "batch"] * 3
