from celery import shared_task

from wallet.idempotency import idempotency_purge
from wallet.services import wallet_resolve_pending


@shared_task
def resolve_pending_transactions() -> None:
    wallet_resolve_pending()


@shared_task
def purge_idempotency_keys() -> None:
    idempotency_purge()
