
import structlog
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from hub.admin import ReadOnlyModelAdmin
from wallet.models import IdempotencyKey, WalletRound, WalletTransaction
from wallet.selectors import round_totals, round_transactions, stale_pending
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
    list_display = ["ref_id", "type", "kind", "status", "player_id", "amount_cents", "currency", "balance_cents",
                    "round_id", "error_code", "is_compensation", "created_at", "settled_at"]
    list_filter = [StuckFilter, "status", "type", "kind", "is_compensation", "currency", "is_tombstone", "created_at"]
    search_fields = ["ref_id", "player_id", "original_ref_id", "round_id", "bet_ref_id", "operator_tx_id",
                     "correlation_id"]
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


@admin.register(WalletRound)
class WalletRoundAdmin(ReadOnlyModelAdmin):
    """Rounds by player and time; a round's page shows its calls in order and what it moved."""

    list_display = ["round_id", "player_id", "currency", "status", "opened_at", "last_call_at", "closed_at"]
    list_filter = ["status", "currency", "opened_at"]
    search_fields = ["=round_id", "=player_id"]
    date_hierarchy = "opened_at"
    ordering = ["-id"]
    fields = readonly_fields = ("round_id", "player_id", "currency", "status", "opened_at", "last_call_at",
                                "closed_at", "totals", "calls")

    @admin.display(description="totals (minor units)")
    def totals(self, found: WalletRound) -> SafeString:
        totals = round_totals(round_transactions(found.round_id))
        return format_html_join(", ", "{}: {}", ((name, value) for name, value in totals.items()))

    @admin.display(description="calls, in order")
    def calls(self, found: WalletRound) -> SafeString:
        rows = format_html_join("", "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                                    "<td>{}</td><td>{}</td></tr>", (
            (reverse("admin:wallet_wallettransaction_change", args=[tx.id]), tx.ref_id, tx.type, tx.kind or "",
             tx.status, tx.amount_cents, tx.bet_ref_id or tx.original_ref_id or "", "closed it" if tx.closes_round
             else "") for tx in round_transactions(found.round_id)))
        return format_html("<table><thead><tr><th>refId</th><th>type</th><th>kind</th><th>status</th><th>amount</th>"
                           "<th>pays / cancels</th><th></th></tr></thead><tbody>{}</tbody></table>", rows)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyModelAdmin):
    list_display = ["key", "client_id", "status", "response_status", "created_at", "locked_until"]
    list_filter = ["status", "client_id", "created_at"]
    search_fields = ["key"]
    ordering = ["-id"]
