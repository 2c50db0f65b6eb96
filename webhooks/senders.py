"""Destinations whose messages are not signed webhooks but calls of an app's own (a provider's API).

An app registers a sender for a destination name at startup (`AppConfig.ready`); the outbox then
hands that destination's messages to it instead of POSTing the webhook envelope, with every other
guarantee unchanged (lease, ordering, retries, circuit, dead letter). It may also register what
happens when one of those messages becomes a dead letter (in the transaction that makes it one).
This keeps `webhooks` free of imports from the apps that use it.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # webhooks.delivery looks senders up here
    from webhooks.delivery import DeliveryResult
    from webhooks.models import OutboxMessage

Sender = Callable[["OutboxMessage"], "DeliveryResult"]
DeadLetterHook = Callable[["OutboxMessage", str], None]  # the message and its last error
_senders: dict[str, Sender] = {}
_dead_letter_hooks: dict[str, DeadLetterHook] = {}


def register_sender(destination: str, sender: Sender, *, on_dead_letter: DeadLetterHook | None = None) -> None:
    _senders[destination] = sender
    if on_dead_letter:
        _dead_letter_hooks[destination] = on_dead_letter


def sender_for(destination: str) -> Sender | None:
    return _senders.get(destination)


def dead_letter_hook_for(destination: str) -> DeadLetterHook | None:
    return _dead_letter_hooks.get(destination)
