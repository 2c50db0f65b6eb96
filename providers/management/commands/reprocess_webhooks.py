from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from hub.cli import moment_arg
from providers.adapters import ADAPTERS
from providers.reprocess import failed_webhooks, inbound_reprocess_all


class Command(BaseCommand):
    help = "Process again the provider webhooks that were authenticated but failed to process (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--provider", choices=sorted(ADAPTERS), help="only this provider")
        parser.add_argument("--since", help="received at or after (ISO date or datetime, UTC)")
        parser.add_argument("--dry-run", action="store_true", help="only count")

    def handle(self, *args, provider: str | None, since: str | None, dry_run: bool, **options) -> None:
        webhooks = failed_webhooks(provider=provider, since=moment_arg(since, end_of_day=False) if since else None)
        if dry_run:
            self.stdout.write(f"{webhooks.count()} failed webhooks would be reprocessed")
            return
        results = inbound_reprocess_all(webhooks=webhooks)
        by_outcome = Counter(result.outcome for result in results)
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(by_outcome.items())) or "nothing to do"
        self.stdout.write(self.style.SUCCESS(f"reprocessed {len(results)} failed webhooks: {summary}"))
        if by_outcome.get("failed"):
            raise CommandError(f"{by_outcome['failed']} failed again; see their errors in the admin")
