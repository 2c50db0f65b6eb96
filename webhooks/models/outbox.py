"""The transactional outbox: where outbound messages go, the messages, and every attempt."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from hub.crypto import EncryptedTextField
from hub.signing import secret_list


class Destination(models.Model):
    """An outside endpoint. Messages are POSTed to `url` + the message's `path`."""

    name = models.SlugField(max_length=64, unique=True)
    url = models.URLField(max_length=500)
    signing_secrets = EncryptedTextField(
        blank=True, help_text="Standard Webhooks secrets (whsec_…), comma-separated; one signature each."
    )
    auth_header_name = models.CharField(max_length=64, blank=True, help_text="e.g. X-AUTH")
    auth_header_value = EncryptedTextField(blank=True)
    retry_delays = models.JSONField(
        default=list, help_text="Seconds before retry 1, 2, …; the last value repeats."
    )
    max_attempts = models.PositiveSmallIntegerField(default=6)
    timeout_seconds = models.FloatField(default=5.0)
    enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name

    @property
    def secrets(self) -> list[str]:
        return secret_list(self.signing_secrets)


class DestinationCircuit(models.Model):
    """Circuit-breaker state of one destination, shared by every worker through the database.

    Closed: `open_until` is null. Open: no message is claimed until `open_until`. Half-open:
    past `open_until`, one claimant takes the probe lease (`probe_until`) and sends one message.
    """

    destination = models.OneToOneField(Destination, on_delete=models.CASCADE, related_name="circuit")
    open_until = models.DateTimeField(null=True, blank=True)
    probe_until = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Failures before this do not count.")

    @property
    def state(self) -> str:
        if self.open_until is None:
            return "closed"
        return "open" if self.open_until > timezone.now() else "half-open"


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING"
        DELIVERED = "DELIVERED"
        DEAD_LETTER = "DEAD_LETTER"

    event_id = models.CharField(max_length=64, help_text="Sent as webhook-id; stable across retries.")
    event_type = models.CharField(max_length=100)
    destination = models.ForeignKey(Destination, on_delete=models.PROTECT, related_name="messages")
    path = models.CharField(max_length=300, blank=True)
    payload = models.JSONField()
    occurred_at = models.DateTimeField()
    ordering_key = models.CharField(max_length=200, blank=True)
    correlation_id = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # A constraint, not `unique=True`: no second index for LIKE 'x%' searches (wallet's ref_id says why).
        constraints = [models.UniqueConstraint(fields=["event_id"], name="outbox_event_id")]
        indexes = [
            # Only pending rows, in claim order: a claim reads the first due entries and stops, and
            # the entries of delivered rows leave the index instead of being skipped one by one.
            models.Index(fields=["next_attempt_at", "id"], condition=models.Q(status="PENDING"), name="outbox_pending"),
            # The pending messages of one ordering key: "is an earlier one still pending?" (a claim) and
            # "which comes next?" (a delivery) read a few entries of one key, whatever the plan; with an
            # index on status instead they walked every pending entry, dead ones included (make bench).
            models.Index(fields=["ordering_key", "id"], condition=models.Q(status="PENDING") & ~models.Q(ordering_key=""),
                         name="outbox_pending_ordering"),
            models.Index(fields=["status", "delivered_at"], name="outbox_retention"),
        ]
        permissions = [("replay_outboxmessage", "Can replay dead-lettered messages")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class DeliveryAttempt(models.Model):
    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="delivery_attempts")
    # No index of its own: attempt_recent, (destination, attempted_at), serves its lookups.
    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="+", db_index=False)
    attempted_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True, help_text="First 2 KiB of the response body.")
    error = models.TextField(blank=True)
    succeeded = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["destination", "attempted_at"], name="attempt_recent")]


class ReplayAudit(models.Model):
    """Who replayed dead letters, when, how many, and with which filter."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor = models.CharField(max_length=150, help_text="Username, or 'cli:<login>' from the shell.")
    replayed_at = models.DateTimeField(default=timezone.now)
    count = models.PositiveIntegerField()
    filters = models.JSONField(default=dict)
