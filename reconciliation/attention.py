"""The last reconciliation runs on the admin's first screen (registered with `hub.attention` at startup)."""

from django.urls import reverse

from hub.attention import Figure
from reconciliation.models import ReconciliationRun

LAST_RUNS = 3


def reconciliation_figures() -> list[Figure]:
    runs = list(ReconciliationRun.objects.order_by("-started_at")[:LAST_RUNS])
    if not runs:
        return [Figure("Reconciliation", "Last runs", "none yet", reverse("admin:reconciliation_reconciliationrun_changelist"),
                       alarm=False, detail="beat runs it nightly; or manage.py reconcile")]
    figures = []
    for run in runs:
        mismatches, completed = run.mismatch_count, run.status == ReconciliationRun.Status.COMPLETED
        figures.append(Figure(
            "Reconciliation", f"{run.window_start:%Y-%m-%d} → {run.window_end:%Y-%m-%d}",
            f"{mismatches} mismatch{'es' if mismatches != 1 else ''}" if completed else run.status.lower(),
            reverse("admin:reconciliation_reconciliationrun_change", args=[run.pk]),
            alarm=mismatches > 0 or run.status == ReconciliationRun.Status.INCOMPLETE,
            detail=f"started {run.started_at:%Y-%m-%d %H:%M} UTC"))
    return figures
