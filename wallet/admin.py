from django.contrib import admin
from django.http import HttpRequest

from wallet.models import IdempotencyKey, WalletTransaction


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money records are written by the services only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(WalletTransaction)
class WalletTransactionAdmin(ReadOnlyAdmin):
    list_display = ["ref_id", "type", "status", "player_id", "amount_cents", "currency", "balance_cents",
                    "error_code", "created_at", "settled_at"]
    list_filter = ["status", "type", "currency", "is_tombstone", "created_at"]
    search_fields = ["ref_id", "player_id", "original_ref_id", "operator_tx_id", "correlation_id"]
    date_hierarchy = "created_at"
    ordering = ["-id"]


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ["key", "client_id", "status", "response_status", "created_at", "locked_until"]
    list_filter = ["status", "client_id", "created_at"]
    search_fields = ["key"]
    ordering = ["-id"]
