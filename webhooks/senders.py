"""Destinations whose messages are not signed webhooks but calls of an app's own (a provider's API).

An app registers a sender for a destination name at startup (`AppConfig.ready`); the outbox then
hands that destination's messages to it instead of POSTing the webhook envelope, with every other
guarantee unchanged (lease, ordering, retries, circuit, dead letter). This keeps `webhooks`
free of imports from the apps that use it.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # webhooks.delivery looks senders up here
    from webhooks.delivery import DeliveryResult
    from webhooks.models import OutboxMessage

Sender = Callable[["OutboxMessage"], "DeliveryResult"]
_senders: dict[str, Sender] = {}


def register_sender(destination: str, sender: Sender) -> None:
    _senders[destination] = sender


def sender_for(destination: str) -> Sender | None:
    return _senders.get(destination)
