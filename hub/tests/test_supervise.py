"""The supervisor behind every Procfile line: restarts a child that exits, stops on a signal."""

import signal
import subprocess
import sys
import time

from hub.testing import BASE_DIR, wait_until

CHILD = "import pathlib, sys, time; p = pathlib.Path(sys.argv[1]); p.write_text(p.read_text() + 'x')" \
        "; sys.exit(1) if len(p.read_text()) == 1 else time.sleep(60)"


def test_a_child_that_exits_is_restarted_and_a_signal_stops_both(tmp_path):
    starts = tmp_path / "starts"
    starts.write_text("")
    supervisor = subprocess.Popen([sys.executable, "-m", "hub.supervise", "--", sys.executable, "-c", CHILD, str(starts)],
                                  cwd=BASE_DIR, stderr=subprocess.PIPE)

    wait_until(lambda: starts.read_text() == "xx", timeout=15, what="the second start")
    time.sleep(0.3)
    supervisor.send_signal(signal.SIGTERM)

    assert supervisor.wait(timeout=25) == 0
    assert b"exited with 1; restarting in 1 s" in supervisor.stderr.read()
    assert starts.read_text() == "xx"  # started twice, not again after the signal
