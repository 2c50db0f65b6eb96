from django.core.management.base import BaseCommand

from providers.adapters import ADAPTERS
from providers.tokens import provider_token_forget


class Command(BaseCommand):
    help = "Forget a provider's cached bearer token: its next call logs in again (RUNBOOK.md, tokens)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("provider", choices=sorted(ADAPTERS))

    def handle(self, *args, provider: str, **options) -> None:
        dropped = provider_token_forget(adapter=ADAPTERS[provider])
        self.stdout.write(f"{provider}: {'token dropped' if dropped else 'no token was cached'}; the next call logs in")
