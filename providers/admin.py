import structlog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from hub import errors
from hub.admin import ReadOnlyModelAdmin, ReadOnlyTabularInline
from providers.adapters import ADAPTERS
from providers.adapters.base import REJECT_REASONS
from providers.decisions import order_decide
from providers.models import (
    Branch,
    InboundWebhook,
    ItemAvailability,
    Location,
    MenuSync,
    MenuVersion,
    Order,
    OrderDecision,
    OrderEvent,
    ProductMapping,
    Provider,
    StoreStatus,
)
from providers.menus import menu_publish_again
from providers.reprocess import inbound_reprocess_all
from providers.selectors import near_deadline_cutoff, undecided_orders
from providers.tokens import provider_token_forget

logger = structlog.get_logger(__name__)


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "enabled"]
    list_filter = ["enabled"]
    actions = ["drop_token"]

    @admin.action(description="Drop its cached token (the next call logs in again)", permissions=["change"])
    def drop_token(self, request: HttpRequest, queryset: QuerySet) -> None:
        for provider in queryset:
            if provider.name in ADAPTERS:
                dropped = provider_token_forget(adapter=ADAPTERS[provider.name])
                self.log_change(request, provider, f"token {'dropped' if dropped else 'was not cached'}")
        self.message_user(request, f"The next call of {queryset.count()} providers logs in again.", messages.SUCCESS)


class BranchForm(forms.ModelForm):
    """The branch secret is never shown; typing a value replaces it."""

    new_secret = forms.CharField(required=False, widget=forms.PasswordInput, label="Secret",
                                 help_text="Write-only: leave empty to keep the stored secret (or none).")
    clear_secret = forms.BooleanField(required=False, help_text="Remove the branch secret (use the provider's).")

    class Meta:
        model = Branch
        exclude = ["secret"]

    def save(self, commit: bool = True) -> Branch:
        if self.cleaned_data.get("clear_secret"):
            self.instance.secret = ""
        elif secret := self.cleaned_data.get("new_secret"):
            self.instance.secret = secret
        return super().save(commit)


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    form = BranchForm
    list_display = ["external_id", "provider", "name", "location", "currency", "enabled", "auto_accept", "has_secret"]
    list_filter = ["provider", "enabled", "auto_accept", "currency"]
    search_fields = ["external_id", "name"]
    list_select_related = ["provider"]

    @admin.display(boolean=True, description="own secret")
    def has_secret(self, obj: Branch) -> bool:
        return bool(obj.secret)


class LocationBranchInline(admin.TabularInline):
    model = Branch
    fields = readonly_fields = ("provider", "external_id", "name", "currency", "enabled")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # a branch joins a site from its own page (its location) or by the backend's PUT


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "created_at"]
    search_fields = ["id", "name"]
    inlines = [LocationBranchInline]


@admin.register(ProductMapping)
class ProductMappingAdmin(admin.ModelAdmin):
    list_display = ["external_item_id", "provider", "product_id", "name"]
    list_filter = ["provider"]
    search_fields = ["external_item_id", "product_id", "name"]
    list_select_related = ["provider"]


class OrderEventInline(ReadOnlyTabularInline):
    model = OrderEvent
    fields = readonly_fields = ("created_at", "event_type", "provider_status", "status", "previous_status", "applied",
                                "occurred_at", "webhook_id")


class OrderDecisionInline(ReadOnlyTabularInline):
    model = OrderDecision
    fields = readonly_fields = ("created_at", "action", "reason", "message", "preparation_minutes", "decided_by",
                                "call", "outbox_event_id")


class AwaitingDecisionFilter(admin.SimpleListFilter):
    title = "awaiting a decision"
    parameter_name = "awaiting"

    def lookups(self, request, model_admin):
        return [("near_deadline", "near the deadline"), ("yes", "yes (NEW with a deadline)")]

    def queryset(self, request, queryset):
        if self.value() in {"near_deadline", "yes"}:
            return undecided_orders(orders=queryset, near_deadline=True if self.value() == "near_deadline" else None)
        return queryset


class DecisionActionForm(ActionForm):
    reason = forms.ChoiceField(required=False, label="Reject reason",
                               choices=[("", "— reason (reject) —"), *[(r, r) for r in sorted(REJECT_REASONS)]])


@admin.register(Order)
class OrderAdmin(ReadOnlyModelAdmin):
    list_display = ["external_order_id", "provider", "branch_id", "status", "attention", "deadline_at", "total_minor",
                    "currency", "has_warnings", "created_at"]
    list_filter = [AwaitingDecisionFilter, "provider", "status", "currency", "created_at"]
    search_fields = ["external_order_id", "id", "branch_id"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    inlines = [OrderDecisionInline, OrderEventInline]
    readonly_fields = [f.name for f in Order._meta.fields]
    action_form = DecisionActionForm
    actions = ["accept_selected", "reject_selected", "mark_ready_selected"]

    @admin.display(boolean=True, description="warnings")
    def has_warnings(self, obj: Order) -> bool:
        return bool(obj.warnings)

    @admin.display(description="attention")
    def attention(self, obj: Order) -> str:
        near = obj.status == Order.Status.NEW and obj.deadline_at is not None and obj.deadline_at <= near_deadline_cutoff()
        late = near and obj.deadline_at is not None and obj.deadline_at <= timezone.now()
        notes = ["⚠ deadline passed" if late else "⚠ near deadline" if near else "", obj.flag]
        return " · ".join(note for note in notes if note)

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("providers.decide_order")

    def _decide(self, request: HttpRequest, queryset: QuerySet, action: str, **kwargs) -> None:
        done, refused = [], []
        for order in queryset:
            try:
                result = order_decide(order_id=order.id, action=action, decided_by=f"admin:{request.user.get_username()}",
                                      notify_backend=True, **kwargs)
            except errors.ApplicationError as exc:
                refused.append(f"{order.external_order_id} ({exc.code}: {order.status})")
                continue
            done.append(f"{order.external_order_id}{' (already)' if result.duplicate else ''} → {result.call}")
            if not result.duplicate:
                self.log_change(request, order, f"{action} {kwargs.get('reason', '')}".strip() + f": call {result.call}")
        logger.info("orders_decided", actor=request.user.get_username(), action=action, done=len(done),
                    refused=len(refused))
        if done:
            self.message_user(request, f"{action}: {', '.join(done)}.", messages.SUCCESS)
        if refused:
            self.message_user(request, f"{action} refused for {', '.join(refused)}.", messages.WARNING)

    @admin.action(description="Accept selected orders (tells the provider)", permissions=["decide"])
    def accept_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(request, queryset, OrderDecision.Action.ACCEPT)

    @admin.action(description="Reject selected orders with the chosen reason (tells the provider)", permissions=["decide"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        reason = request.POST.get("reason", "")
        if reason not in REJECT_REASONS:
            self.message_user(request, "Choose a reject reason first.", messages.ERROR)
            return
        self._decide(request, queryset, OrderDecision.Action.REJECT, reason=reason)

    @admin.action(description="Mark selected orders ready (tells the provider)", permissions=["decide"])
    def mark_ready_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(request, queryset, OrderDecision.Action.READY)


@admin.register(InboundWebhook)
class InboundWebhookAdmin(ReadOnlyModelAdmin):
    """The audit log of provider requests: read-only, secrets already redacted."""

    list_display = ["received_at", "provider", "outcome", "status_code", "path", "remote_ip", "dedupe_key"]
    list_filter = ["provider", "outcome", "status_code", "received_at"]
    search_fields = ["id", "dedupe_key", "correlation_id"]
    date_hierarchy = "received_at"
    ordering = ["-received_at"]
    readonly_fields = [f.name for f in InboundWebhook._meta.fields]
    actions = ["reprocess_selected"]

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("providers.reprocess_inboundwebhook")

    @admin.action(description="Reprocess selected failed webhooks", permissions=["reprocess"])
    def reprocess_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        results = inbound_reprocess_all(webhooks=queryset)
        logger.info("inbound_reprocessed", actor=request.user.get_username(), count=len(results),
                    outcomes=[result.outcome for result in results])
        if not results:
            self.message_user(request, "None of the selected webhooks is a failed one waiting to be reprocessed.",
                              messages.WARNING)
            return
        outcomes = ", ".join(f"{result.webhook_id[:8]}… → {result.outcome}" for result in results)
        failed_again = any(result.outcome == InboundWebhook.Outcome.FAILED for result in results)
        self.message_user(request, f"Reprocessed {len(results)} failed webhooks: {outcomes}.",
                          messages.WARNING if failed_again else messages.SUCCESS)



class MenuSyncInline(ReadOnlyTabularInline):
    model = MenuSync
    fields = readonly_fields = ("branch", "state", "created_at", "sent_at", "finished_at", "errors")


@admin.register(MenuVersion)
class MenuVersionAdmin(ReadOnlyModelAdmin):
    list_display = ["location", "version", "created_at", "document_hash"]
    list_filter = ["location"]
    readonly_fields = ["location", "version", "created_at", "document_hash", "document"]
    inlines = [MenuSyncInline]


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("yes", "the newest sync of its branch failed, is partial or timed out")]

    def queryset(self, request, queryset):
        if self.value() != "yes":
            return queryset
        newest = MenuSync.objects.order_by("branch_id", "-created_at").distinct("branch_id").values("id")
        return queryset.filter(id__in=newest, state__in=["failed", "partial", "timed_out"])


@admin.register(MenuSync)
class MenuSyncAdmin(ReadOnlyModelAdmin):
    list_display = ["branch", "provider", "menu_version", "state", "error_count", "created_at", "sent_at",
                    "finished_at"]
    list_filter = [NeedsAttentionFilter, "state", "branch__provider"]
    list_select_related = ["branch__provider", "menu_version__location"]
    readonly_fields = ["branch", "menu_version", "state", "forced", "rendered_hash", "provider_job_id", "errors",
                       "outbox_event_id", "created_at", "sent_at", "finished_at"]
    actions = ["publish_again"]

    @admin.display(description="provider")
    def provider(self, obj: MenuSync) -> str:
        return obj.branch.provider.name

    @admin.display(description="errors")
    def error_count(self, obj: MenuSync) -> int:
        return len(obj.errors)

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("providers.publish_menu")

    @admin.action(description="Publish again (the location's latest menu, sent even if unchanged)",
                  permissions=["publish"])
    def publish_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        branches = list({sync.branch_id: sync.branch for sync in queryset.select_related("branch")}.values())
        queued = menu_publish_again(branches=branches)
        for sync in queryset:
            self.log_change(request, sync, "published again")
        self.message_user(request, f"{queued} branches queued to publish again.", messages.SUCCESS)


@admin.register(ItemAvailability)
class ItemAvailabilityAdmin(ReadOnlyModelAdmin):
    list_display = ["location", "item_id", "available", "until", "updated_at"]
    list_filter = ["available", "location"]
    search_fields = ["item_id"]


@admin.register(StoreStatus)
class StoreStatusAdmin(ReadOnlyModelAdmin):
    list_display = ["location", "status", "until", "updated_at"]
    list_filter = ["status"]
