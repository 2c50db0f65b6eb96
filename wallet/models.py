"""Wallet transactions (amounts in integer minor units) and the idempotency keys of wallet calls."""

import uuid

from django.db import models
from django.utils import timezone


class CreditKind(models.TextChoices):
    WIN = "WIN"
    BONUS = "BONUS"
    JACKPOT = "JACKPOT"
    PROMO = "PROMO"
    ADJUSTMENT = "ADJUSTMENT"


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
    round_id = models.CharField(max_length=64, blank=True, help_text="The RGS's round; rollbacks: their debit's.")
    closes_round = models.BooleanField(default=False, help_text="Sent with roundClosed: true.")
    bet_ref_id = models.CharField(max_length=64, blank=True, help_text="Credits: the debit this win pays.")
    kind = models.CharField(max_length=10, choices=CreditKind.choices, blank=True, help_text="Credits only.")
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
            # Partial: a transaction outside a round (most debits) writes no entry in these.
            models.Index(fields=["round_id"], name="wallet_tx_round", condition=~models.Q(round_id="")),
            models.Index(fields=["bet_ref_id"], name="wallet_tx_bet", condition=~models.Q(bet_ref_id="")),
            models.Index(fields=["original_ref_id"], name="wallet_tx_original", condition=~models.Q(original_ref_id="")),
        ]
        permissions = [("resolve_wallettransaction", "Can resolve PENDING transactions now (asks the Operator)")]

    def __str__(self) -> str:
        return f"{self.type} {self.ref_id}"


class WalletRound(models.Model):
    """A game round: its calls are the transactions with its `round_id`. Opened by its first debit or
    credit, closed by a call with `roundClosed: true`, or by beat after WALLET_ROUND_AUTOCLOSE_HOURS idle."""

    class Status(models.TextChoices):
        OPEN = "OPEN"
        CLOSED = "CLOSED"
        AUTO_CLOSED = "AUTO_CLOSED"

    round_id = models.CharField(max_length=64, help_text="The RGS's id.")
    player_id = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    last_call_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round_id"], name="wallet_round_id")]
        indexes = [
            models.Index(fields=["status", "last_call_at"], name="wallet_round_idle"),
            models.Index(fields=["player_id", "opened_at"], name="wallet_round_player"),
        ]

    def __str__(self) -> str:
        return f"round {self.round_id}"


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
