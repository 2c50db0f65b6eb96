"""Serve a fake with gunicorn: one process (state lives in memory), many threads."""

from gunicorn.app.base import BaseApplication

from mock_services.framework import MockService


class MockServer(BaseApplication):
    def __init__(self, service: MockService, *, host: str, port: int, threads: int) -> None:
        self.service = service
        self.options = {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            "proc_name": f"mock-{service.name}",
            "accesslog": None,
            "loglevel": "warning",
            "keepalive": 5,
            "graceful_timeout": 2,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> MockService:
        return self.service
