from collections.abc import Sequence
from decimal import Decimal

import structlog

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from hub.admin import ReadOnlyModelAdmin
from hub.json_input import BoundedJSONDecoder
from webhooks.circuit import circuit_close, circuit_probe_now
from webhooks.models import DeliveryAttempt, Destination, OutboxMessage, ReplayAudit
from webhooks.nudges import nudge
from webhooks.replay import outbox_replay, staff_user

Status = OutboxMessage.Status
logger = structlog.get_logger(__name__)
WRITE_ONLY_HELP = "Write-only: leave empty to keep the stored value."


MAX_RETRY_DELAY_SECONDS = 7 * 24 * 3600
MAX_TIMEOUT_SECONDS = 300.0


class DestinationForm(forms.ModelForm):
    """Secrets are never rendered back; typing a new value replaces the stored one. Numbers are read
    with the hub's bounded reader and kept within what delivery can use."""

    url = forms.URLField(max_length=500, assume_scheme="https")
    retry_delays = forms.JSONField(decoder=BoundedJSONDecoder,
                                   help_text="Seconds before retry 1, 2, …; the last value repeats. "
                                             f"Each from 0 to {MAX_RETRY_DELAY_SECONDS}.")
    timeout_seconds = forms.FloatField(min_value=0.1, max_value=MAX_TIMEOUT_SECONDS)
    new_signing_secrets = forms.CharField(
        required=False, widget=forms.PasswordInput, label="Signing secrets",
        help_text=f"whsec_… secrets, comma-separated during rotation. {WRITE_ONLY_HELP}",
    )
    new_auth_header_value = forms.CharField(
        required=False, widget=forms.PasswordInput, label="Auth header value", help_text=WRITE_ONLY_HELP
    )

    class Meta:
        model = Destination
        exclude = ["signing_secrets", "auth_header_value"]

    def clean_retry_delays(self) -> list[int | float]:
        delays = self.cleaned_data["retry_delays"]
        if not isinstance(delays, list) or not 1 <= len(delays) <= 50 or not all(
                not isinstance(delay, bool) and isinstance(delay, int | Decimal)
                and 0 <= delay <= MAX_RETRY_DELAY_SECONDS for delay in delays):
            raise forms.ValidationError(f"A list of 1 to 50 numbers of seconds, each from 0 to {MAX_RETRY_DELAY_SECONDS}.")
        return [int(delay) if delay == int(delay) else float(delay) for delay in delays]

    def save(self, commit: bool = True) -> Destination:
        if secrets := self.cleaned_data.get("new_signing_secrets"):
            self.instance.signing_secrets = secrets
        if value := self.cleaned_data.get("new_auth_header_value"):
            self.instance.auth_header_value = value
        return super().save(commit)


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin):
    form = DestinationForm
    list_display = ["name", "url", "enabled", "max_attempts", "timeout_seconds", "circuit_state", "signed"]
    list_filter = ["enabled"]
    list_select_related = ["circuit"]
    actions = ["probe_circuit_now", "close_circuit"]

    def has_circuit_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.change_destinationcircuit")

    def _circuit_action(self, request: HttpRequest, queryset: QuerySet, change, verb: str) -> None:
        ids = list(queryset.values_list("id", flat=True))
        changed = change(destination_ids=ids, now=timezone.now())
        for destination in queryset:
            self.log_change(request, destination, f"circuit: {verb.lower()}")
        logger.info("circuit_changed_from_admin", actor=request.user.get_username(), action=verb, destinations=ids,
                    changed=changed)
        if changed:
            nudge()
            self.message_user(request, f"{verb} {changed} open circuit{'s' if changed != 1 else ''}.", messages.SUCCESS)
        else:
            self.message_user(request, "None of the selected circuits is open.", messages.WARNING)

    @admin.action(description="Probe now: send one message through the open circuit", permissions=["circuit"])
    def probe_circuit_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._circuit_action(request, queryset, circuit_probe_now, "Probing")

    @admin.action(description="Close the circuit: resume deliveries now", permissions=["circuit"])
    def close_circuit(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._circuit_action(request, queryset, circuit_close, "Closed")

    @admin.display(description="circuit")
    def circuit_state(self, obj: Destination) -> str:
        return obj.circuit.state if hasattr(obj, "circuit") else "closed"

    @admin.display(boolean=True)
    def signed(self, obj: Destination) -> bool:
        return bool(obj.signing_secrets)


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = readonly_fields = ("attempted_at", "succeeded", "status_code", "duration_ms", "error", "response_excerpt")
    ordering = ["-attempted_at"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyModelAdmin):
    list_display = ["event_id", "event_type", "destination", "status", "attempts", "next_attempt_at", "created_at"]
    list_filter = ["status", "destination", "event_type", "created_at"]
    search_fields = ["event_id", "ordering_key", "correlation_id"]
    list_select_related = ["destination"]
    date_hierarchy = "created_at"
    ordering = ["-id"]
    inlines = [DeliveryAttemptInline]
    actions = ["replay_selected"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]


    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.replay_outboxmessage")

    def get_urls(self):
        view = self.admin_site.admin_view(self.replay_matching_view)
        return [path("replay-matching/", view, name="webhooks_outboxmessage_replay_matching"), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        context = {"can_replay": self.has_replay_permission(request), "filter_query": request.GET.urlencode()}
        return super().changelist_view(request, {**(extra_context or {}), **context})

    def _confirm(
        self, request: HttpRequest, queryset: QuerySet, *, title: str, hidden: Sequence[tuple[str, object]]
    ) -> TemplateResponse:
        total = queryset.count()
        dead = queryset.filter(status=Status.DEAD_LETTER).count()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "dead_count": dead,
            "other_count": total - dead,
            "hidden": hidden,
        }
        return TemplateResponse(request, "admin/webhooks/outboxmessage/replay_confirmation.html", context)

    @admin.action(description="Replay selected dead letters", permissions=["replay"])
    def replay_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if request.POST.get("confirm") != "yes":
            hidden = [("action", "replay_selected")] + [
                (helpers.ACTION_CHECKBOX_NAME, pk) for pk in queryset.values_list("pk", flat=True)
            ]
            return self._confirm(request, queryset, title="Replay selected dead letters", hidden=hidden)
        selected = sorted(int(pk) for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))
        count = outbox_replay(
            messages=queryset, actor=request.user.get_username(), user=staff_user(request), filters={"selected": selected}
        )
        self.message_user(request, f"Replayed {count} dead-lettered messages.", messages.SUCCESS)
        return None

    def replay_matching_view(self, request: HttpRequest) -> HttpResponse:
        """Replay every dead letter that the changelist's current filters match."""
        if not (self.has_replay_permission(request) and self.has_view_permission(request)):
            return HttpResponse("Replay needs the 'Can replay dead-lettered messages' permission.", status=403)
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:  # answered as the changelist answers a filter it cannot apply
            return HttpResponseRedirect(f"{reverse('admin:webhooks_outboxmessage_changelist')}?{ERROR_FLAG}=1")
        if request.method != "POST" or request.POST.get("confirm") != "yes":
            return self._confirm(request, queryset, title="Replay all matching the current filter", hidden=[])
        count = outbox_replay(
            messages=queryset, actor=request.user.get_username(), user=staff_user(request), filters=request.GET.dict()
        )
        self.message_user(request, f"Replayed {count} dead-lettered messages.", messages.SUCCESS)
        changelist = reverse("admin:webhooks_outboxmessage_changelist")
        return HttpResponseRedirect(f"{changelist}?{request.GET.urlencode()}" if request.GET else changelist)


@admin.register(ReplayAudit)
class ReplayAuditAdmin(ReadOnlyModelAdmin):
    list_display = ["replayed_at", "actor", "count", "filters"]
    list_filter = ["replayed_at"]
    raw_id_fields = ["user"]
    readonly_fields = ["user", "actor", "replayed_at", "count", "filters"]
