from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from wallet.models import WalletRound, WalletTransaction


def wallet_transaction_data(tx: WalletTransaction) -> dict[str, Any]:
    """A transaction as the RGS sees it: in its webhook, and (with times) from the lookup API."""
    return {
        "transactionId": str(tx.transaction_id), "refId": tx.ref_id, "type": tx.type, "status": tx.status,
        "playerId": tx.player_id, "amountCents": tx.amount_cents, "currency": tx.currency,
        "balanceCents": tx.balance_cents, "errorCode": tx.error_code or None,
        "originalRefId": tx.original_ref_id or None, "roundId": tx.round_id or None, "roundClosed": tx.closes_round,
        "betRefId": tx.bet_ref_id or None, "kind": tx.kind or None,
    }


def _times(tx: WalletTransaction) -> dict[str, Any]:
    return {"createdAt": tx.created_at.isoformat(), "settledAt": tx.settled_at.isoformat() if tx.settled_at else None}


def wallet_transaction_view(*, ref_id: str) -> dict[str, Any] | None:
    tx = WalletTransaction.objects.filter(ref_id=ref_id, is_tombstone=False).first()
    if tx is None:
        return None
    return {**wallet_transaction_data(tx), **_times(tx)}


def round_totals(transactions: list[WalletTransaction]) -> dict[str, int]:
    """What a round moved: bets still charged, credits paid, bets refunded by a rollback."""
    def total(type_: str, status: str) -> int:
        return sum(tx.amount_cents for tx in transactions if tx.type == type_ and tx.status == status)

    Type, Status = WalletTransaction.Type, WalletTransaction.Status
    bet, win = total(Type.DEBIT, Status.COMPLETED), total(Type.CREDIT, Status.COMPLETED)
    return {"betCents": bet, "winCents": win, "rolledBackCents": total(Type.DEBIT, Status.ROLLED_BACK),
            "netCents": win - bet}


def round_transactions(round_id: str) -> list[WalletTransaction]:
    """A round's calls (the rollbacks of its bets too), in the order they came."""
    return list(WalletTransaction.objects.filter(round_id=round_id, is_tombstone=False).order_by("id"))


def wallet_round_data(found: WalletRound) -> dict[str, Any]:
    return {"roundId": found.round_id, "playerId": found.player_id, "currency": found.currency, "status": found.status,
            "openedAt": found.opened_at.isoformat(), "lastCallAt": found.last_call_at.isoformat(),
            "closedAt": found.closed_at.isoformat() if found.closed_at else None}


def wallet_round_view(*, round_id: str) -> dict[str, Any] | None:
    """A round with its calls (the rollbacks of its bets too) in the order they came, and its totals."""
    found = WalletRound.objects.filter(round_id=round_id).first()
    if found is None:
        return None
    transactions = round_transactions(round_id)
    return {**wallet_round_data(found), "totals": round_totals(transactions),
            "transactions": [{**wallet_transaction_data(tx), **_times(tx)} for tx in transactions]}


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
