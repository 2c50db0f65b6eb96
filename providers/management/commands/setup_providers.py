from django.core.management.base import BaseCommand

from providers.adapters import ADAPTERS
from providers.destinations import ensure_provider_destination
from providers.locations import LocationCommand, location_register
from providers.models import Branch, Location, Provider

# The demo site, on all four providers so that a menu shows each one's shape (Careem and Uber Eats do not
# serve Kuwait today: their two Salmiya branches exist for the demo only).
DEMO_LOCATION = ("shawarma-x-salmiya", LocationCommand(
    name="Shawarma X - Salmiya", branches=[("careem", "loc_kw_salmiya"), ("talabat", "kw-684213"),
                                           ("deliveroo", "kw-salmiya-07"),
                                           ("ubereats", "5d2d7a4e-3b1c-4e0f-9a8b-6c7d8e9f0a1b")]))


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
            location_id, command = DEMO_LOCATION
            for provider, external_id in command.branches:
                Branch.objects.get_or_create(provider=Provider.objects.get(name=provider), external_id=external_id,
                                             defaults={"name": command.name, "currency": "KWD"})
            location, _ = location_register(location_id=location_id, command=command)
            self.stdout.write(f"location {location.id}: created")
