from django.contrib import admin

from hub.admin import ReadOnlyModelAdmin
from wallet.models import IdempotencyKey, WalletTransaction


@admin.register(WalletTransaction)
class WalletTransactionAdmin(ReadOnlyModelAdmin):
    list_display = ["ref_id", "type", "status", "player_id", "amount_cents", "currency", "balance_cents",
                    "error_code", "created_at", "settled_at"]
    list_filter = ["status", "type", "currency", "is_tombstone", "created_at"]
    search_fields = ["ref_id", "player_id", "original_ref_id", "operator_tx_id", "correlation_id"]
    date_hierarchy = "created_at"
    ordering = ["-id"]


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyModelAdmin):
    list_display = ["key", "client_id", "status", "response_status", "created_at", "locked_until"]
    list_filter = ["status", "client_id", "created_at"]
    search_fields = ["key"]
    ordering = ["-id"]
