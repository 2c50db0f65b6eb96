"""`run_outbox_dispatcher` where Celery delivers (OUTBOX_TRIGGER=celery): the Procfile lists it
everywhere, so with --idle-when-unused it waits for SIGTERM instead of exiting (honcho stops every process
when one exits); without the flag it says why it cannot run."""

import signal

import pytest

from hub.testing import start_process, stop_process, subprocess_env, wait_until

pytestmark = pytest.mark.e2e


def test_with_the_celery_trigger_it_idles_until_sigterm_and_exits_cleanly(tmp_path):
    log = tmp_path / "dispatcher.log"
    process = start_process(["manage.py", "run_outbox_dispatcher", "--idle-when-unused"],
                            env=subprocess_env(OUTBOX_TRIGGER="celery"), log=log)
    try:
        wait_until(lambda: b"outbox dispatcher: idle" in log.read_bytes(), timeout=30, what="the idle dispatcher",
                   log=log)
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        stop_process(process)
    assert b"Celery delivers here" in log.read_bytes()
    assert b"outbox_dispatcher_listening" not in log.read_bytes()


def test_without_the_flag_it_fails_and_says_that_celery_delivers(tmp_path):
    log = tmp_path / "dispatcher.log"
    process = start_process(["manage.py", "run_outbox_dispatcher"], env=subprocess_env(OUTBOX_TRIGGER="celery"),
                            log=log)
    try:
        assert process.wait(timeout=30) == 1
    finally:
        stop_process(process)
    assert b"; Celery delivers here" in log.read_bytes()
