"""Write `settings.PERIODIC_TASKS` into django-celery-beat's tables, idempotently."""

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from hub.db import lock_until_commit

MANAGED_MARKER = "Managed by setup_periodic_tasks"


def _interval(seconds: int) -> IntervalSchedule:
    existing = IntervalSchedule.objects.filter(every=seconds, period=IntervalSchedule.SECONDS).order_by("id")
    return existing.first() or IntervalSchedule.objects.create(every=seconds, period=IntervalSchedule.SECONDS)


def _crontab(expression: str) -> CrontabSchedule:
    minute, hour, day_of_month, month_of_year, day_of_week = expression.split()
    fields = {
        "minute": minute,
        "hour": hour,
        "day_of_month": day_of_month,
        "month_of_year": month_of_year,
        "day_of_week": day_of_week,
        "timezone": "UTC",
    }
    return CrontabSchedule.objects.filter(**fields).order_by("id").first() or CrontabSchedule.objects.create(**fields)


def _schedule_fields(spec: dict) -> dict:
    if "every" in spec:
        return {"interval": _interval(int(spec["every"])), "crontab": None}
    return {"interval": None, "crontab": _crontab(spec["crontab"])}


@transaction.atomic
def _apply(declared: dict[str, dict]) -> dict[str, list[str]]:
    lock_until_commit("setup_periodic_tasks")
    report: dict[str, list[str]] = {"created": [], "updated": [], "removed": []}
    for name, spec in declared.items():
        defaults = {
            "task": spec["task"],
            "expire_seconds": spec.get("expires"),
            "description": MANAGED_MARKER,
            **_schedule_fields(spec),
        }
        # `enabled` is left alone on update: an operator may have paused a task in the admin.
        _, created = PeriodicTask.objects.update_or_create(name=name, defaults=defaults)
        report["created" if created else "updated"].append(name)
    stale = PeriodicTask.objects.filter(description=MANAGED_MARKER).exclude(name__in=declared)
    report["removed"] = sorted(stale.values_list("name", flat=True))
    stale.delete()
    return report


def periodic_tasks_sync(*, declared: dict[str, dict]) -> dict[str, list[str]]:
    """Create or update every declared task and remove managed ones no longer declared.

    Two deployments may run setup at once. Unserialized, they deadlock: each save takes a
    task row and django-celery-beat's single change-marker row, in differing orders. So
    the whole sync runs under one lock.
    """
    return _apply(declared)
