from django.core.management.base import BaseCommand, CommandError

from mock_services.registry import DEFAULT_PORTS, MOCKS
from mock_services.server import MockServer


class Command(BaseCommand):
    help = "Run one of the fake outside systems over HTTP."
    requires_system_checks: list = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", choices=sorted(MOCKS))
        parser.add_argument("--port", type=int, help="default: " + ", ".join(f"{n} {p}" for n, p in DEFAULT_PORTS.items()))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--threads", type=int, default=16)

    def handle(self, *args, name: str, port: int | None, host: str, threads: int, **options) -> None:
        if threads < 1:
            raise CommandError("--threads must be at least 1")
        port = port or DEFAULT_PORTS[name]
        self.stdout.write(f"mock {name} listening on http://{host}:{port}")
        self.stdout.flush()
        MockServer(MOCKS[name](), host=host, port=port, threads=threads).run()
