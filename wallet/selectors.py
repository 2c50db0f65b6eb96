from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from wallet.models import WalletTransaction


def wallet_transaction_data(tx: WalletTransaction) -> dict[str, Any]:
    """A transaction as the RGS sees it: in its webhook, and (with times) from the lookup API."""
    return {
        "transactionId": str(tx.transaction_id), "refId": tx.ref_id, "type": tx.type, "status": tx.status,
        "playerId": tx.player_id, "amountCents": tx.amount_cents, "currency": tx.currency,
        "balanceCents": tx.balance_cents, "errorCode": tx.error_code or None,
        "originalRefId": tx.original_ref_id or None,
    }


def wallet_transaction_view(*, ref_id: str) -> dict[str, Any] | None:
    tx = WalletTransaction.objects.filter(ref_id=ref_id, is_tombstone=False).first()
    if tx is None:
        return None
    return {**wallet_transaction_data(tx), "createdAt": tx.created_at.isoformat(),
            "settledAt": tx.settled_at.isoformat() if tx.settled_at else None}


def stale_pending(transactions: QuerySet[WalletTransaction] | None = None) -> QuerySet[WalletTransaction]:
    """PENDING transactions older than WALLET_PENDING_RESOLVE_AFTER_SECONDS: the resolver should have settled them."""
    cutoff = timezone.now() - timedelta(seconds=settings.WALLET_PENDING_RESOLVE_AFTER_SECONDS)
    return (WalletTransaction.objects.all() if transactions is None else transactions).filter(
        status=WalletTransaction.Status.PENDING, created_at__lt=cutoff)


def stale_pending_count() -> int:
    return stale_pending().count()


def unconfirmed_compensations() -> QuerySet[WalletTransaction]:
    """Refunds the hub owes a player and the Operator has not confirmed yet (SPEC §3, compensation)."""
    return WalletTransaction.objects.filter(is_compensation=True, status=WalletTransaction.Status.PENDING)
