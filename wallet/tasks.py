from celery import shared_task

from wallet.idempotency import idempotency_purge
from wallet.services import wallet_close_idle_rounds, wallet_resolve_pending


@shared_task
def resolve_pending_transactions() -> None:
    wallet_resolve_pending()


@shared_task
def send_compensation(tx_id: int) -> None:
    """The first attempt of a compensation; the resolver re-sends it until the Operator confirms."""
    wallet_resolve_pending(only_ids=[tx_id], older_than_seconds=0)


@shared_task
def purge_idempotency_keys() -> None:
    idempotency_purge()


@shared_task
def close_idle_rounds() -> None:
    wallet_close_idle_rounds()
