from webhooks.models.intake import InboundWebhook
from webhooks.models.outbox import DeliveryAttempt, Destination, DestinationCircuit, OutboxMessage, ReplayAudit

__all__ = ["InboundWebhook", "DeliveryAttempt", "Destination", "DestinationCircuit", "OutboxMessage", "ReplayAudit"]
