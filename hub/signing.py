"""Signatures the hub produces for outside systems."""

from datetime import datetime

from standardwebhooks.webhooks import Webhook


def standard_webhook_headers(*, webhook_id: str, timestamp: datetime, body: str, secrets: list[str]) -> dict[str, str]:
    """Standard Webhooks headers; one `v1,` signature per secret so receivers can rotate."""
    headers = {"webhook-id": webhook_id, "webhook-timestamp": str(int(timestamp.timestamp()))}
    if secrets:
        headers["webhook-signature"] = " ".join(
            Webhook(secret).sign(webhook_id, timestamp, body) for secret in secrets
        )
    return headers
