
import structlog
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from hub.admin import ReadOnlyModelAdmin
from wallet.models import IdempotencyKey, WalletTransaction
from wallet.selectors import stale_pending
from wallet.services import wallet_resolve_pending

logger = structlog.get_logger(__name__)


class StuckFilter(admin.SimpleListFilter):
    title = "stuck"
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        return [("yes", "PENDING past the resolve threshold")]

    def queryset(self, request, queryset):
        return stale_pending(queryset) if self.value() == "yes" else queryset


@admin.register(WalletTransaction)
class WalletTransactionAdmin(ReadOnlyModelAdmin):
    list_display = ["ref_id", "type", "status", "player_id", "amount_cents", "currency", "balance_cents",
                    "error_code", "is_compensation", "created_at", "settled_at"]
    list_filter = [StuckFilter, "status", "type", "is_compensation", "currency", "is_tombstone", "created_at"]
    search_fields = ["ref_id", "player_id", "original_ref_id", "operator_tx_id", "correlation_id"]
    date_hierarchy = "created_at"
    ordering = ["-id"]
    actions = ["resolve_selected"]

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("wallet.resolve_wallettransaction")

    @admin.action(description="Resolve selected PENDING transactions now (ask the Operator)", permissions=["resolve"])
    def resolve_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        ids = list(queryset.filter(status=WalletTransaction.Status.PENDING).values_list("id", flat=True))
        settled = wallet_resolve_pending(older_than_seconds=0, only_ids=ids) if ids else 0
        for tx in WalletTransaction.objects.filter(id__in=ids):
            self.log_change(request, tx, f"resolve now: {tx.status}")
        logger.info("wallet_resolved_from_admin", actor=request.user.get_username(), selected=len(ids), settled=settled)
        if not ids:
            self.message_user(request, "None of the selected transactions is PENDING.", messages.WARNING)
        elif settled == len(ids):
            self.message_user(request, f"Resolved {settled} of {len(ids)} PENDING transactions.", messages.SUCCESS)
        else:
            self.message_user(request, f"Resolved {settled} of {len(ids)} PENDING transactions; the others stay "
                                       "PENDING (the Operator did not answer): beat tries again.", messages.WARNING)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyModelAdmin):
    list_display = ["key", "client_id", "status", "response_status", "created_at", "locked_until"]
    list_filter = ["status", "client_id", "created_at"]
    search_fields = ["key"]
    ordering = ["-id"]
