"""Keep one command running: `python -m hub.supervise -- COMMAND ARGS…`.

honcho (`make run`) stops every process when one of them exits, so a worker that dies on a broker
outage would take the hub, beat and the fakes down with it. Each Procfile line therefore runs under
this small supervisor: a child that exits on its own is started again after a back-off (1 s,
doubling to 30 s, back to 1 s once a run lasted a minute); SIGINT or SIGTERM is passed on to the
child and ends the supervisor once the child is gone, so Ctrl-C still stops everything.
docker compose does the same with `restart: unless-stopped`.
"""

import signal
import subprocess
import sys
import time

FIRST_DELAY, MAX_DELAY, STABLE_SECONDS, STOP_GRACE_SECONDS = 1.0, 30.0, 60.0, 20.0


class Supervisor:
    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.child: subprocess.Popen | None = None
        self.stopping = False

    def stop(self, signum: int, _frame) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        delay = FIRST_DELAY
        while not self.stopping:
            started = time.monotonic()
            self.child = subprocess.Popen(self.command)
            code = self._wait()
            if self.stopping:
                return 0
            if time.monotonic() - started > STABLE_SECONDS:
                delay = FIRST_DELAY
            print(f"supervise: {self.command[0]} exited with {code}; restarting in {delay:.0f} s",
                  file=sys.stderr, flush=True)
            deadline = time.monotonic() + delay
            delay = min(delay * 2, MAX_DELAY)
            while not self.stopping and time.monotonic() < deadline:
                time.sleep(0.1)
        return 0

    def _wait(self) -> int:
        assert self.child is not None
        while True:
            try:
                return self.child.wait(timeout=STOP_GRACE_SECONDS if self.stopping else None)
            except subprocess.TimeoutExpired:  # asked to stop, and the child did not: make sure
                self.child.kill()


def main(argv: list[str]) -> int:
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        print("usage: python -m hub.supervise -- COMMAND [ARGS…]", file=sys.stderr)
        return 2
    return Supervisor(command).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
