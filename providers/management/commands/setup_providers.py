from django.core.management.base import BaseCommand

from providers.adapters import ADAPTERS
from providers.destinations import ensure_provider_destination
from providers.models import Branch, Provider

class Command(BaseCommand):
    help = "Create every registered provider and its outbox destination (idempotent); --demo adds each one's example branch."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--demo", action="store_true", help="also create the demo branches")

    def handle(self, *args, demo: bool, **options) -> None:
        for name in ADAPTERS:
            _, created = Provider.objects.get_or_create(name=name)
            self.stdout.write(f"provider {name}: {'created' if created else 'exists'}")
            if ADAPTERS[name].api_origin():
                ensure_provider_destination(ADAPTERS[name])
        # The branches of the example payloads in docs/INTEGRATION.md and the README's "Try it".
        for adapter in ADAPTERS.values() if demo else ():
            if adapter.demo_branch:
                external_id, name, currency = adapter.demo_branch
                _, created = Branch.objects.get_or_create(
                    provider=Provider.objects.get(name=adapter.name), external_id=external_id,
                    defaults={"name": name, "currency": currency},
                )
                self.stdout.write(f"branch {adapter.name}:{external_id}: {'created' if created else 'exists'}")
