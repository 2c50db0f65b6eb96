from django.core.management.base import BaseCommand

from webhooks.destinations import destinations_sync_from_env


class Command(BaseCommand):
    help = (
        "Create the rgs and backend outbox destinations from the environment; on existing ones, "
        "overwrite only the fields whose environment variable is set."
    )

    def handle(self, *args, **options) -> None:
        for name, outcome in destinations_sync_from_env().items():
            self.stdout.write(f"destination {name}: {outcome}")
