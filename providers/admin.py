import structlog
from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from hub.admin import ReadOnlyModelAdmin
from providers.models import Branch, InboundWebhook, Order, OrderEvent, ProductMapping, Provider
from providers.reprocess import inbound_reprocess_all

logger = structlog.get_logger(__name__)


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "enabled"]
    list_filter = ["enabled"]


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
    list_display = ["external_id", "provider", "name", "currency", "enabled", "has_secret"]
    list_filter = ["provider", "enabled", "currency"]
    search_fields = ["external_id", "name"]
    list_select_related = ["provider"]

    @admin.display(boolean=True, description="own secret")
    def has_secret(self, obj: Branch) -> bool:
        return bool(obj.secret)


@admin.register(ProductMapping)
class ProductMappingAdmin(admin.ModelAdmin):
    list_display = ["external_item_id", "provider", "product_id", "name"]
    list_filter = ["provider"]
    search_fields = ["external_item_id", "product_id", "name"]
    list_select_related = ["provider"]


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    fields = readonly_fields = ("created_at", "event_type", "provider_status", "status", "previous_status", "applied",
                                "occurred_at", "webhook_id")
    extra = 0
    can_delete = False
    ordering = ["id"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyModelAdmin):
    list_display = ["external_order_id", "provider", "branch_id", "status", "total_minor", "currency", "has_warnings", "created_at"]
    list_filter = ["provider", "status", "currency", "created_at"]
    search_fields = ["external_order_id", "id", "branch_id"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    inlines = [OrderEventInline]
    readonly_fields = [f.name for f in Order._meta.fields]

    @admin.display(boolean=True, description="warnings")
    def has_warnings(self, obj: Order) -> bool:
        return bool(obj.warnings)


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

