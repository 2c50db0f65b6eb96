import getpass

from django.core.management.base import BaseCommand, CommandError

from hub.cli import moment_arg
from webhooks.models import Destination, OutboxMessage
from webhooks.replay import outbox_replay


class Command(BaseCommand):
    help = "Replay dead-lettered outbox messages of a destination (they keep their webhook-id)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--destination", required=True, help="destination name, e.g. rgs or backend")
        parser.add_argument("--since", help="created at or after (ISO date or datetime, UTC)")
        parser.add_argument("--until", help="created at or before (ISO date or datetime, UTC)")
        parser.add_argument("--type", dest="event_type", help="only this event type")
        parser.add_argument("--dry-run", action="store_true", help="only count")

    def handle(self, *args, destination: str, since, until, event_type, dry_run: bool, **options) -> None:
        if not Destination.objects.filter(name=destination).exists():
            raise CommandError(f"unknown destination {destination!r}")
        messages = OutboxMessage.objects.filter(destination__name=destination, status=OutboxMessage.Status.DEAD_LETTER)
        filters: dict[str, str] = {"destination": destination}
        if since:
            messages = messages.filter(created_at__gte=moment_arg(since, end_of_day=False))
            filters["since"] = since
        if until:
            messages = messages.filter(created_at__lte=moment_arg(until, end_of_day=True))
            filters["until"] = until
        if event_type:
            messages = messages.filter(event_type=event_type)
            filters["type"] = event_type
        if dry_run:
            self.stdout.write(f"{messages.count()} dead-lettered messages would be replayed")
            return
        count = outbox_replay(messages=messages, actor=f"cli:{getpass.getuser()}", filters=filters)
        self.stdout.write(self.style.SUCCESS(f"replayed {count} dead-lettered messages"))
