from django.core.management.base import BaseCommand

from providers.adapters import ADAPTERS
from providers.destinations import ensure_provider_destination
from providers.locations import LocationCommand, location_register
from providers.models import Branch, Location, Provider

# The demo site, on the two providers whose demo branches are in Salmiya (KWD).
DEMO_LOCATION = ("shawarma-x-salmiya", LocationCommand(
    name="Shawarma X - Salmiya", branches=[("talabat", "kw-684213"), ("deliveroo", "kw-salmiya-07")]))


class Command(BaseCommand):
    help = ("Create every registered provider and its outbox destination (idempotent); --demo adds each one's example "
            "branch and the demo location.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--demo", action="store_true", help="also create the demo branches and location")

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
        if demo and not Location.objects.filter(id=DEMO_LOCATION[0]).exists():
            location, _ = location_register(location_id=DEMO_LOCATION[0], command=DEMO_LOCATION[1])
            self.stdout.write(f"location {location.id}: created")
