"""The inbound audit log: one row for every provider request, accepted or not."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


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
    body = models.TextField(blank=True, help_text="Kept only for authenticated requests.")
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
