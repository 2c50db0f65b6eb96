import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django_celery_beat.models import PeriodicTask

from hub.periodic import MANAGED_MARKER, periodic_tasks_sync

DECLARED = {
    "sweep": {"task": "hub.tasks.clear_expired_sessions", "every": 10, "expires": 9},
    "nightly": {"task": "hub.tasks.clear_expired_sessions", "crontab": "0 2 * * *", "expires": 3600},
}


@pytest.mark.django_db
def test_sync_creates_then_updates_without_duplicates():
    first = periodic_tasks_sync(declared=DECLARED)
    second = periodic_tasks_sync(declared=DECLARED)

    assert (sorted(first["created"]), sorted(second["updated"])) == (["nightly", "sweep"], ["nightly", "sweep"])
    assert PeriodicTask.objects.count() == 2
    sweep, nightly = PeriodicTask.objects.get(name="sweep"), PeriodicTask.objects.get(name="nightly")
    assert (sweep.interval.every, sweep.interval.period, sweep.expire_seconds) == (10, "seconds", 9)
    assert (nightly.crontab.minute, nightly.crontab.hour, str(nightly.crontab.timezone)) == ("0", "2", "UTC")


@pytest.mark.django_db
def test_sync_changes_a_schedule_and_keeps_an_operators_pause():
    periodic_tasks_sync(declared=DECLARED)
    PeriodicTask.objects.filter(name="sweep").update(enabled=False)

    periodic_tasks_sync(declared={**DECLARED, "sweep": {**DECLARED["sweep"], "every": 30, "expires": 25}})

    sweep = PeriodicTask.objects.get(name="sweep")
    assert (sweep.interval.every, sweep.expire_seconds, sweep.enabled) == (30, 25, False)


@pytest.mark.django_db
def test_sync_removes_tasks_it_managed_and_leaves_others_alone():
    periodic_tasks_sync(declared=DECLARED)
    PeriodicTask.objects.create(name="hand-made", task="x.y", interval=PeriodicTask.objects.get(name="sweep").interval)

    report = periodic_tasks_sync(declared={"sweep": DECLARED["sweep"]})

    assert report["removed"] == ["nightly"]
    assert sorted(PeriodicTask.objects.values_list("name", flat=True)) == ["hand-made", "sweep"]


@pytest.mark.django_db
def test_the_command_installs_the_settings_entries(settings):
    call_command("setup_periodic_tasks")
    call_command("setup_periodic_tasks")

    installed = PeriodicTask.objects.filter(description=MANAGED_MARKER)
    assert sorted(installed.values_list("name", flat=True)) == sorted(settings.PERIODIC_TASKS)


@pytest.mark.django_db(transaction=True)
def test_concurrent_setups_leave_exactly_one_row_per_task():
    # Schedules already exist (as on any redeploy), so nothing serializes the setups before
    # they race on the task names: creating a schedule row would lock beat's change marker.
    periodic_tasks_sync(declared=DECLARED)
    PeriodicTask.objects.all().delete()
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    failures: list[BaseException] = []

    def run_setup() -> None:
        try:
            barrier.wait()
            periodic_tasks_sync(declared=DECLARED)
        except BaseException as exc:  # collected and asserted below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run_setup) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert sorted(PeriodicTask.objects.values_list("name", flat=True)) == ["nightly", "sweep"]


def test_the_lock_refuses_to_run_outside_a_transaction():
    from hub.db import lock_until_commit

    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        lock_until_commit("anything")
