from webhooks.models.outbox import DeliveryAttempt, Destination, DestinationCircuit, OutboxMessage, ReplayAudit

__all__ = ["DeliveryAttempt", "Destination", "DestinationCircuit", "OutboxMessage", "ReplayAudit"]
