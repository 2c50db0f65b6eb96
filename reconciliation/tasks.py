from datetime import date, timedelta
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from reconciliation.services import reconciliation_run


@shared_task(soft_time_limit=1800, time_limit=1900)
def reconcile_previous_day() -> None:
    yesterday = timezone.now().date() - timedelta(days=1)
    reconciliation_run(start_day=yesterday, end_day=yesterday, output_dir=Path(settings.RECONCILIATION_OUTPUT_DIR),
                       trigger="beat")


@shared_task(soft_time_limit=1800, time_limit=1900)
def reconcile_days(start_day: str, end_day: str, trigger: str = "admin") -> None:
    reconciliation_run(start_day=date.fromisoformat(start_day), end_day=date.fromisoformat(end_day),
                       output_dir=Path(settings.RECONCILIATION_OUTPUT_DIR), trigger=trigger)
