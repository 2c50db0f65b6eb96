import factory
from django.utils import timezone

from wallet.contract import MoneyRequest, RollbackRequest
from wallet.models import WalletTransaction


class WalletTransactionFactory(factory.django.DjangoModelFactory[WalletTransaction]):
    """A settled debit by default."""

    class Meta:
        model = WalletTransaction

    ref_id = factory.Sequence(lambda n: f"ref-{n}")
    type = WalletTransaction.Type.DEBIT
    player_id = "player-1"
    amount_cents = 1234
    currency = "USD"
    status = WalletTransaction.Status.COMPLETED
    balance_cents = 8766
    settled_at = factory.LazyFunction(timezone.now)


def money_request(ref_id: str = "ref-1", amount_minor: int = 1234, player_id: str = "player-1",
                  currency: str = "USD") -> MoneyRequest:
    return MoneyRequest(player_id=player_id, ref_id=ref_id, amount_minor=amount_minor, currency=currency)


def rollback_request(ref_id: str = "rb-1", original_ref_id: str = "ref-1", player_id: str = "player-1") -> RollbackRequest:
    return RollbackRequest(player_id=player_id, ref_id=ref_id, original_ref_id=original_ref_id)
