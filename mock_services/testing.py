"""Start a fake as a real subprocess (`manage.py run_mock`) and drive its control API."""

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from hub.testing import free_port, http_ok, start_process, stop_process, subprocess_env, wait_until


@dataclass
class RunningMock:
    name: str
    url: str
    process: subprocess.Popen
    log: Path

    def script(self, route: str, responses: list[dict]) -> None:
        answer = requests.post(f"{self.url}/__control/script", json={"route": route, "responses": responses}, timeout=5)
        answer.raise_for_status()

    def requests(self, route: str | None = None) -> list[dict[str, Any]]:
        params = {"route": route} if route else {}
        answer = requests.get(f"{self.url}/__control/requests", params=params, timeout=5)
        answer.raise_for_status()
        return answer.json()["requests"]

    def control(self, path: str) -> Any:
        answer = requests.get(f"{self.url}/__control/{path}", timeout=5)
        answer.raise_for_status()
        return answer.json()

    def reset(self) -> None:
        requests.post(f"{self.url}/__control/reset", timeout=5).raise_for_status()

    def stop(self) -> None:
        stop_process(self.process)


def start_mock(name: str, *, log_dir: Path, **env: str) -> RunningMock:
    port = free_port()
    log = log_dir / f"mock-{name}-{port}.log"
    process = start_process(
        ["manage.py", "run_mock", name, "--port", str(port), "--threads", "8"], env=subprocess_env(**env), log=log
    )
    mock = RunningMock(name=name, url=f"http://127.0.0.1:{port}", process=process, log=log)
    def serving() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"mock {name} exited:\n{log.read_text(errors='replace')[-4000:]}")
        return http_ok(f"{mock.url}/__control/requests")

    try:
        wait_until(serving, timeout=30, what=f"mock {name}", log=log)
    except AssertionError:
        mock.stop()
        raise
    return mock
