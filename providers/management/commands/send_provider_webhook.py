"""Post a provider payload to the hub, authenticated the way the provider's mode says (for demos and support)."""

from pathlib import Path
from urllib.parse import quote

import requests
from django.core.management.base import BaseCommand, CommandError

from providers.adapters import ADAPTERS
from providers.auth import credentials_headers
from providers.config import intake_settings


class Command(BaseCommand):
    help = "Sign and POST a JSON payload file as the provider would, and print the answer."

    def add_arguments(self, parser) -> None:
        parser.add_argument("provider", choices=sorted(ADAPTERS))
        parser.add_argument("file", type=Path)
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the hub's base URL")
        parser.add_argument("--plugin-order", metavar="REMOTE_ID",
                            help="talabat: use the plugin route POST /api/webhooks/talabat/order/REMOTE_ID")
        parser.add_argument("--secret", help="default: the provider's configured secret")

    def handle(self, *args, provider: str, file: Path, url: str, plugin_order: str | None, secret: str | None,
               **options) -> None:
        if not file.is_file():
            raise CommandError(f"no such file: {file}")
        body = file.read_bytes()
        config = intake_settings(provider)
        path = f"/api/webhooks/talabat/order/{quote(plugin_order, safe='')}" if plugin_order else f"/api/webhooks/{provider}"
        headers = {"Content-Type": "application/json",
                   **credentials_headers(provider=provider, mode=config.auth_mode, secret=secret or config.secret, body=body)}
        try:
            answer = requests.post(url.rstrip("/") + path, data=body, headers=headers, timeout=30)
        except requests.RequestException as exc:
            raise CommandError(f"cannot reach the hub at {url}: {exc}") from exc
        self.stdout.write(f"POST {path} ({config.auth_mode}) → HTTP {answer.status_code}")
        self.stdout.write(answer.text)
