import sys
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reconciliation.models import ReconciliationRun
from reconciliation.services import reconciliation_run, summary_text


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from None


class Command(BaseCommand):
    help = ("Compare the hub's transactions with the Operator's for whole UTC days (default: yesterday). "
            "Exit 0: no mismatch; 1: mismatches; 2: the run could not complete.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--date", help="one day, YYYY-MM-DD")
        parser.add_argument("--from", dest="from_day", help="first day, YYYY-MM-DD (with --to)")
        parser.add_argument("--to", dest="to_day", help="last day, inclusive")
        parser.add_argument("--output-dir", default=settings.RECONCILIATION_OUTPUT_DIR)

    def handle(self, *args, date: str | None, from_day: str | None, to_day: str | None, output_dir: str, **options):
        if date and (from_day or to_day):
            raise CommandError("use either --date or --from/--to")
        if bool(from_day) != bool(to_day):
            raise CommandError("--from and --to go together")
        yesterday = timezone.now().date() - timedelta(days=1)
        start = _day(from_day) if from_day else _day(date) if date else yesterday
        end = _day(to_day) if to_day else start
        if end < start:
            raise CommandError("--to is before --from")
        run = reconciliation_run(start_day=start, end_day=end, output_dir=Path(output_dir),
                                 show_progress=sys.stderr.isatty())
        self.stdout.write(summary_text(run))
        if run.status == ReconciliationRun.Status.COMPLETED:
            self.stdout.write(f"CSV: {run.csv_path}\nSummary: {run.summary_path}")
        sys.exit(2 if run.status != ReconciliationRun.Status.COMPLETED else 1 if run.mismatch_count else 0)
