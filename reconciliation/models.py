"""Reconciliation runs and the mismatches each one found."""

from django.db import models
from django.utils import timezone


class ReconciliationRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "RUNNING"
        COMPLETED = "COMPLETED"
        INCOMPLETE = "INCOMPLETE"

    window_start = models.DateTimeField(help_text="Inclusive, UTC.")
    window_end = models.DateTimeField(help_text="Exclusive, UTC.")
    trigger = models.CharField(max_length=16, default="cli", help_text="cli, beat or admin.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    hub_count = models.PositiveIntegerField(default=0)
    operator_count = models.PositiveIntegerField(default=0)
    matched_count = models.PositiveIntegerField(default=0)
    pending_count = models.PositiveIntegerField(default=0)
    mismatch_count = models.PositiveIntegerField(default=0)
    compensations_started = models.PositiveIntegerField(
        default=0, help_text="Debits the hub had settled as not charged that the Operator charged: refunds started.")
    counts_by_kind = models.JSONField(default=dict)
    totals = models.JSONField(default=dict, help_text="Per side and currency: count and amount (minor units).")
    csv_path = models.CharField(max_length=500, blank=True)
    summary_path = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["started_at"], name="recon_run_started")]
        permissions = [("run_reconciliationrun", "Can run a reconciliation again from the admin")]

    def __str__(self) -> str:
        return f"{self.window_start:%Y-%m-%d}…{self.window_end:%Y-%m-%d} {self.status}"


class Mismatch(models.Model):
    class Kind(models.TextChoices):
        MISSING_IN_OPERATOR = "MISSING_IN_OPERATOR"
        MISSING_IN_HUB = "MISSING_IN_HUB"
        AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
        STATUS_MISMATCH = "STATUS_MISMATCH"
        CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
        TYPE_MISMATCH = "TYPE_MISMATCH"

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="mismatches")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    ref_id = models.CharField(max_length=64)
    hub_amount = models.BigIntegerField(null=True, blank=True)
    operator_amount = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=16, blank=True)
    hub_status = models.CharField(max_length=16, blank=True)
    operator_status = models.CharField(max_length=16, blank=True)
    hub_type = models.CharField(max_length=16, blank=True)
    operator_type = models.CharField(max_length=16, blank=True)
    occurred_at = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [models.Index(fields=["run", "kind"], name="recon_mismatch_kind")]
        verbose_name_plural = "mismatches"
