"""The after-commit nudge sender: off the caller's thread, coalesced, never failing the caller."""

import threading
import time

import pytest

from webhooks import nudges
from webhooks.nudges import NudgeSender


def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_ids_arriving_while_a_send_is_under_way_share_the_next_message():
    sent: list[list[int]] = []
    first_send_started, release = threading.Event(), threading.Event()

    def send(ids: list[int]) -> None:
        sent.append(ids)
        first_send_started.set()
        release.wait(5)

    sender = NudgeSender(send, max_batch=50)
    sender.nudge(1)
    assert first_send_started.wait(5)
    for message_id in range(2, 122):  # queued while the first send blocks
        sender.nudge(message_id)
    release.set()

    wait_until(lambda: sum(len(ids) for ids in sent) == 121)
    assert sent == [[1], list(range(2, 52)), list(range(52, 102)), list(range(102, 122))]


def test_a_nudge_does_not_wait_for_the_send():
    release = threading.Event()
    sent: list[list[int]] = []
    sender = NudgeSender(lambda ids: (release.wait(5), sent.append(ids)))

    started = time.monotonic()
    sender.nudge(7)
    assert time.monotonic() - started < 0.5  # the broker is slow, the caller is not
    release.set()
    wait_until(lambda: sent == [[7]])


def test_a_failed_send_is_logged_and_later_nudges_still_go(caplog):
    calls: list[list[int]] = []

    def send(ids: list[int]) -> None:
        calls.append(ids)
        if len(calls) == 1:
            raise ConnectionError("broker down")

    sender = NudgeSender(send)
    sender.nudge(1)
    wait_until(lambda: len(calls) == 1)
    time.sleep(0.05)
    sender.nudge(2)

    wait_until(lambda: calls == [[1], [2]])
    assert "outbox_nudge_failed" in caplog.text


def test_flush_sends_what_is_queued_on_the_calling_thread():
    sent: list[list[int]] = []
    sender = NudgeSender(sent.append)
    sender._pending.extend([4, 5, 6])  # as if the process is exiting before its thread ran

    sender.flush()

    assert sent == [[4, 5, 6]]


def test_nudges_within_the_linger_share_one_message():
    sent: list[list[int]] = []
    sender = NudgeSender(sent.append, linger_seconds=0.2)

    for message_id in (1, 2, 3):
        sender.nudge(message_id)

    wait_until(lambda: sent)
    time.sleep(0.05)
    assert sent == [[1, 2, 3]]


@pytest.mark.django_db(transaction=True)
def test_the_trigger_is_built_at_startup_and_can_be_swapped():
    from webhooks.outbox import outbox_enqueue
    from webhooks.tests.factories import DestinationFactory

    assert isinstance(nudges._trigger, NudgeSender)  # installed by WebhooksConfig.ready
    started_with = nudges._trigger
    sent: list[list[int]] = []
    nudges.install_trigger(NudgeSender(sent.append))
    try:
        DestinationFactory(name="rgs")
        message = outbox_enqueue(destination="rgs", event_type="t", data={})  # autocommit: nudged at once
        wait_until(lambda: sent == [[message.id]])
    finally:
        nudges.install_trigger(started_with)


@pytest.mark.django_db(transaction=True)  # autocommit, as the nudge thread's connection is
def test_the_notify_thread_keeps_no_debug_query_log(settings):
    """The NOTIFY is sent from a thread no request starts: under DEBUG its log grew with every linger."""
    from django.db import connection

    from webhooks.nudges import _notify_dispatchers

    settings.DEBUG = True
    for _ in range(5):
        _notify_dispatchers([1])

    assert len(connection.queries_log) <= 1
