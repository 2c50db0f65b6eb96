"""Providers, their branches and product mappings, the audit log of their webhooks, and the orders built from them."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from hub.crypto import EncryptedTextField


class Provider(models.Model):
    name = models.SlugField(max_length=32, unique=True)
    enabled = models.BooleanField(default=True, help_text="A disabled provider's webhooks get 401.")

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    """One restaurant site, named by the restaurant backend's own id; linked to at most one branch per provider."""

    id = models.CharField(primary_key=True, max_length=100, help_text="The restaurant backend's id of the site.")
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name or self.id


class Branch(models.Model):
    """A restaurant branch as the provider names it (Careem branch.id, Talabat remoteId)."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="branches")
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="branches",
                                 help_text="The restaurant site this branch is (one branch per provider).")
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217; used when the payload has none.")
    secret = EncryptedTextField(blank=True, help_text="Overrides the provider's secret for this branch.")
    enabled = models.BooleanField(default=True)
    provider_ids = models.JSONField(
        default=dict, blank=True,
        help_text="The provider's ids for this branch besides its own (Deliveroo brandId, Talabat chainCode and "
                  "posVendorId, Careem brandId and catalogId, Uber Eats store id): what menu calls address.")
    auto_accept = models.BooleanField(default=False, help_text="The hub accepts this branch's new orders itself.")
    preparation_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Default preparation time of an acceptance (else 20 minutes).")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "external_id"], name="branch_per_provider"),
            models.UniqueConstraint(fields=["location", "provider"], condition=Q(location__isnull=False),
                                    name="one_branch_per_provider_per_location"),
        ]
        verbose_name_plural = "branches"

    def __str__(self) -> str:
        return f"{self.provider}:{self.external_id}"


class ProductMapping(models.Model):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="product_mappings")
    external_item_id = models.CharField(max_length=100, help_text="Careem item/option id, Talabat remoteCode or id.")
    product_id = models.CharField(max_length=100, help_text="The restaurant backend's product id.")
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "external_item_id"], name="mapping_per_provider")]


class Order(models.Model):
    class Status(models.TextChoices):
        NEW = "NEW"
        ACCEPTED = "ACCEPTED"
        PREPARING = "PREPARING"
        READY = "READY"
        PICKED_UP = "PICKED_UP"
        DELIVERED = "DELIVERED"
        CANCELLED = "CANCELLED"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.CharField(max_length=32)
    external_order_id = models.CharField(max_length=100)
    branch_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    currency = models.CharField(max_length=3)
    total_minor = models.BigIntegerField()
    data = models.JSONField(help_text="The internal order as sent to the restaurant backend.")
    warnings = models.JSONField(default=list)
    placed_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True, help_text="The provider cancels it if undecided by then.")
    provider_refs = models.JSONField(
        default=dict, blank=True, help_text="What the provider needs to hear decisions (brand id, callback URLs).")
    flag = models.CharField(max_length=300, blank=True, help_text="A problem an operator must look at.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "external_order_id"], name="order_per_provider")]
        indexes = [
            models.Index(fields=["status", "created_at"], name="order_status_created"),
            models.Index(fields=["deadline_at"], condition=Q(status="NEW"), name="order_undecided_deadline"),
        ]
        permissions = [("decide_order", "Can accept, reject or mark orders ready (sent to the provider)")]

    def __str__(self) -> str:
        return f"{self.provider} {self.external_order_id}"


class OrderEvent(models.Model):
    """Every event a provider sent about an order, applied or not (a late older status is kept, not applied)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    event_type = models.CharField(max_length=64)
    provider_status = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=12, blank=True, help_text="The lifecycle status it maps to, if any.")
    previous_status = models.CharField(max_length=12, blank=True)
    applied = models.BooleanField()
    occurred_at = models.DateTimeField(null=True, blank=True)
    webhook_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)


class OrderDecision(models.Model):
    """The restaurant's decision on an order, once per action; its call to the provider goes through the outbox."""

    class Action(models.TextChoices):
        ACCEPT = "accept"
        REJECT = "reject"
        READY = "ready"
        PICKED_UP = "picked-up"

    class Call(models.TextChoices):
        QUEUED = "queued", "queued in the outbox"
        NOT_APPLICABLE = "not_applicable", "not applicable (no callback URL)"
        REFUSED = "refused", "refused (callback URL on a foreign host)"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField(max_length=16, choices=Action.choices)
    reason = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=500, blank=True)
    preparation_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, help_text="backend, auto, or admin:<username>")
    call = models.CharField(max_length=16, choices=Call.choices)
    outbox_event_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "action"], name="one_decision_per_action")]


class InboundWebhook(models.Model):
    class Outcome(models.TextChoices):
        ACCEPTED = "accepted"
        DUPLICATE = "duplicate"
        UNAUTHORIZED = "unauthorized"
        RATE_LIMITED = "rate_limited"
        TOO_LARGE = "too_large"
        MALFORMED = "malformed"
        INVALID = "invalid"
        NOT_FOUND = "not_found"
        FAILED = "failed"  # authenticated, then processing failed: kept for `reprocess_webhooks`

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, help_text="The webhookId answered.")
    provider = models.CharField(max_length=32)
    received_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    remote_ip = models.GenericIPAddressField(null=True, blank=True)
    headers = models.JSONField(help_text="Secrets redacted.")
    body = models.TextField(blank=True, help_text="Kept only for authenticated requests, as text (for reading).")
    raw_body = models.BinaryField(null=True, blank=True, editable=False,
                                  help_text="A failed request's body as the bytes that arrived: what reprocessing reads.")
    body_sha256 = models.CharField(max_length=64)
    body_size = models.PositiveIntegerField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField()
    errors = models.JSONField(default=list)
    dedupe_key = models.CharField(max_length=300, blank=True)
    duplicate_of = models.UUIDField(null=True, blank=True)
    correlation_id = models.CharField(max_length=128, blank=True)
    # What reprocessing a failed request needs besides its body: which route read it and what the
    # URL and the authentication said (branch from the path, Talabat remoteOrderId, acting branch).
    route = models.CharField(max_length=16, blank=True)
    context = models.JSONField(default=dict, blank=True)
    reprocessed_at = models.DateTimeField(null=True, blank=True)
    reprocessed_as = models.UUIDField(null=True, blank=True, help_text="The audit row of the reprocessing.")

    class Meta:
        db_table = "webhooks_inboundwebhook"  # created by the webhooks app before intake moved here; rows kept
        permissions = [("reprocess_inboundwebhook", "Can reprocess failed inbound webhooks")]
        constraints = [
            # One accepted webhook per provider event: a provider's retry loses this race and is a duplicate.
            models.UniqueConstraint(
                fields=["provider", "dedupe_key"], condition=Q(outcome="accepted"), name="inbound_dedupe"
            )
        ]
        indexes = [
            models.Index(fields=["provider", "received_at"], name="inbound_provider_time"),
            models.Index(fields=["received_at"], condition=Q(outcome="failed", reprocessed_at__isnull=True),
                         name="inbound_failed_pending"),
        ]


class MenuVersion(models.Model):
    """A location's master menu as the backend last sent it (`providers.menu_document`), one row per change."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="menu_versions")
    version = models.PositiveIntegerField()
    document = models.JSONField(help_text="The normalised provider-neutral menu.")
    document_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["location", "version"], name="menu_version_per_location")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.location_id} v{self.version}"


class MenuSync(models.Model):
    """Publishing one menu version to one provider branch (SPEC §7c): queued until its call is sent (a newer
    version replaces a queued one), then followed to the provider's result."""

    class State(models.TextChoices):
        QUEUED = "queued"
        SENT = "sent"  # the provider took it and answers later (Deliveroo's upload result)
        LIVE = "live"
        PARTIAL = "partial"
        FAILED = "failed"
        TIMED_OUT = "timed_out"
        UNCHANGED = "unchanged"  # the provider already has what this version renders to

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="menu_syncs")
    menu_version = models.ForeignKey(MenuVersion, on_delete=models.CASCADE, related_name="syncs")
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    rendered_hash = models.CharField(max_length=64, blank=True, help_text="What the provider was sent.")
    forced = models.BooleanField(default=False, help_text="Published again by an operator: sent even if unchanged.")
    provider_job_id = models.CharField(max_length=200, blank=True)
    errors = models.JSONField(default=list, blank=True, help_text="The provider's errors, per item where it says.")
    outbox_event_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["branch"], condition=Q(state="queued"),
                                               name="one_queued_menu_sync_per_branch")]
        permissions = [("publish_menu", "Can publish a location's menu again to a provider")]
        indexes = [models.Index(fields=["branch", "-created_at"], name="menu_sync_branch_recent")]

    def __str__(self) -> str:
        return f"{self.branch} {self.menu_version} {self.state}"


class ItemAvailability(models.Model):
    """An item of a location's menu the restaurant marked unavailable (and when it comes back by itself), or
    available again; what the providers were told (SPEC §7c)."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="item_availability")
    item_id = models.CharField(max_length=100)
    available = models.BooleanField()
    until = models.DateTimeField(null=True, blank=True, help_text="Unavailable until then; the hub restores it.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["location", "item_id"], name="availability_per_item")]
        indexes = [models.Index(fields=["until"], condition=Q(available=False), name="unavailable_until")]
        verbose_name_plural = "item availability"


class StoreStatus(models.Model):
    """A location's store status as the restaurant last set it; the hub reopens it at `until`."""

    class Status(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"
        PAUSED = "paused"

    location = models.OneToOneField(Location, on_delete=models.CASCADE, related_name="store_status")
    status = models.CharField(max_length=8, choices=Status.choices)
    until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "store statuses"
