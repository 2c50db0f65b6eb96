from prometheus_client.core import GaugeMetricFamily

from reconciliation.models import ReconciliationRun


def collect():
    mismatches = GaugeMetricFamily("hub_reconciliation_last_run_mismatches", "Mismatches of the last finished run by kind",
                                   labels=["kind"])
    complete = GaugeMetricFamily("hub_reconciliation_last_run_complete", "1 if the last finished run completed, else 0")
    finished = GaugeMetricFamily("hub_reconciliation_last_run_finished_timestamp_seconds", "When the last run finished")
    run = ReconciliationRun.objects.exclude(finished_at=None).order_by("-finished_at").first()
    if run is not None and run.finished_at is not None:
        for kind, count in sorted(run.counts_by_kind.items()):
            mismatches.add_metric([kind], count)
        complete.add_metric([], 1 if run.status == ReconciliationRun.Status.COMPLETED else 0)
        finished.add_metric([], run.finished_at.timestamp())
    yield mismatches
    yield complete
    yield finished
