from django.core.management.base import BaseCommand

from providers.adapters import ADAPTERS
from providers.destinations import ensure_provider_destination
from providers.models import Branch, Provider

# The branches of the example payloads in docs/INTEGRATION.md (and shared/providers-formats.md).
DEMO_BRANCHES = [
    ("careem", "loc_amman_abdoun", "Shawarma X - Abdoun", "JOD"),
    ("talabat", "kw-684213", "Shawarma X - Salmiya", "KWD"),
]


class Command(BaseCommand):
    help = "Create the careem and talabat providers and their outbox destinations (idempotent); --demo adds the example branches."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--demo", action="store_true", help="also create the demo branches")

    def handle(self, *args, demo: bool, **options) -> None:
        for name in ADAPTERS:
            _, created = Provider.objects.get_or_create(name=name)
            self.stdout.write(f"provider {name}: {'created' if created else 'exists'}")
            if ADAPTERS[name].api_origin():
                ensure_provider_destination(ADAPTERS[name])
        if demo:
            for provider, external_id, name, currency in DEMO_BRANCHES:
                _, created = Branch.objects.get_or_create(
                    provider=Provider.objects.get(name=provider), external_id=external_id,
                    defaults={"name": name, "currency": currency},
                )
                self.stdout.write(f"branch {provider}:{external_id}: {'created' if created else 'exists'}")
