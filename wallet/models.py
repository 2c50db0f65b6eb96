"""Wallet transactions (amounts in integer minor units) and the idempotency keys of wallet calls."""

import uuid

from django.db import models
from django.utils import timezone


class WalletTransaction(models.Model):
    class Type(models.TextChoices):
        DEBIT = "DEBIT"
        CREDIT = "CREDIT"
        ROLLBACK = "ROLLBACK"

    class Status(models.TextChoices):
        PENDING = "PENDING"
        COMPLETED = "COMPLETED"
        FAILED = "FAILED"
        ROLLED_BACK = "ROLLED_BACK"

    transaction_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    ref_id = models.CharField(max_length=64, help_text="The RGS's id; the Operator's transaction_id.")
    type = models.CharField(max_length=8, choices=Type.choices)
    player_id = models.CharField(max_length=64)
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    original_ref_id = models.CharField(max_length=64, blank=True, help_text="Rollbacks: the debit they cancel.")
    is_tombstone = models.BooleanField(
        default=False,
        help_text="A refId rolled back before its debit was seen: holds the refId so that debit is refused.",
    )
    is_compensation = models.BooleanField(
        default=False,
        help_text="A rollback the hub sent itself: the Operator applied a debit the hub had settled as not charged.",
    )
    meta = models.JSONField(null=True, blank=True)
    operator_tx_id = models.CharField(max_length=100, blank=True)
    balance_cents = models.BigIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The answer given, replayed byte for byte.")
    processing_until = models.DateTimeField(null=True, blank=True, help_text="Lease of the request driving it.")
    correlation_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # A constraint, not `unique=True`: that would add a second index for LIKE 'x%' searches on
        # PostgreSQL, which nothing makes, and every insert and settlement writes every index.
        constraints = [models.UniqueConstraint(fields=["ref_id"], name="wallet_tx_ref_id")]
        indexes = [
            models.Index(fields=["status", "created_at"], name="wallet_tx_status_created"),
            models.Index(fields=["player_id", "created_at"], name="wallet_tx_player"),
        ]
        permissions = [("resolve_wallettransaction", "Can resolve PENDING transactions now (asks the Operator)")]

    def __str__(self) -> str:
        return f"{self.type} {self.ref_id}"


class IdempotencyKey(models.Model):
    class Status(models.TextChoices):
        IN_FLIGHT = "IN_FLIGHT"
        COMPLETED = "COMPLETED"

    client_id = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.IN_FLIGHT)
    locked_until = models.DateTimeField(help_text="An in-flight request older than this is taken over.")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client_id", "key"], name="idempotency_key_per_client")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]
