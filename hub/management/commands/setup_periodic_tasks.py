from django.conf import settings
from django.core.management.base import BaseCommand

from hub.periodic import periodic_tasks_sync


class Command(BaseCommand):
    help = "Create or update the periodic tasks of settings.PERIODIC_TASKS for Celery beat (idempotent)."

    def handle(self, *args, **options) -> None:
        report = periodic_tasks_sync(declared=settings.PERIODIC_TASKS)
        for outcome, names in report.items():
            for name in names:
                self.stdout.write(f"{outcome}: {name}")
