from datetime import timedelta
from pathlib import Path

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from hub.admin import ReadOnlyModelAdmin
from reconciliation.models import Mismatch, ReconciliationRun
from reconciliation.tasks import reconcile_days


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyModelAdmin):
    list_display = ["started_at", "window_start", "window_end", "trigger", "status", "hub_count", "operator_count",
                    "pending_count", "mismatch_count", "csv_link"]
    list_filter = ["status", "trigger", "started_at"]
    ordering = ["-started_at"]
    actions = ["run_again"]
    readonly_fields = [f.name for f in ReconciliationRun._meta.fields] + ["csv_link", "mismatch_list"]

    def get_urls(self):
        view = self.admin_site.admin_view(self.download_csv)
        return [path("<int:run_id>/csv/", view, name="reconciliation_run_csv"), *super().get_urls()]

    @admin.display(description="CSV")
    def csv_link(self, obj: ReconciliationRun) -> str:
        if not obj.csv_path:
            return "—"
        return format_html('<a href="{}">download</a>', reverse("admin:reconciliation_run_csv", args=[obj.id]))

    @admin.display(description="mismatches")
    def mismatch_list(self, obj: ReconciliationRun) -> str:
        url = reverse("admin:reconciliation_mismatch_changelist") + f"?run__id__exact={obj.id}"
        return format_html('<a href="{}">{} mismatches</a>', url, obj.mismatch_count)

    def download_csv(self, request: HttpRequest, run_id: int) -> FileResponse:
        if not self.has_view_permission(request):  # the report lists refIds, players and amounts
            raise PermissionDenied
        run = get_object_or_404(ReconciliationRun, id=run_id)
        if not run.csv_path or not Path(run.csv_path).is_file():
            raise Http404("This run has no CSV (incomplete, or the file was removed).")
        return FileResponse(open(run.csv_path, "rb"), as_attachment=True, filename=Path(run.csv_path).name)

    def has_run_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("reconciliation.run_reconciliationrun")

    @admin.action(description="Run again (same window, in the background)", permissions=["run"])
    def run_again(self, request: HttpRequest, queryset) -> None:
        for run in queryset:
            last_day = (run.window_end - timedelta(days=1)).date()
            reconcile_days.delay(run.window_start.date().isoformat(), last_day.isoformat(), "admin")
        self.message_user(request, f"Queued {queryset.count()} reconciliation runs.", messages.SUCCESS)


@admin.register(Mismatch)
class MismatchAdmin(ReadOnlyModelAdmin):
    list_display = ["ref_id", "kind", "hub_amount", "operator_amount", "currency", "hub_status", "operator_status",
                    "hub_type", "operator_type", "occurred_at", "run"]
    list_filter = ["kind", "run"]
    search_fields = ["ref_id"]
    list_select_related = ["run"]
    raw_id_fields = ["run"]
