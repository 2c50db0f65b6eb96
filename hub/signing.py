"""Signatures the hub produces for outside systems."""

import hashlib
import hmac
import re
import time
from datetime import datetime

from standardwebhooks.webhooks import Webhook

UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


def standard_webhook_headers(*, webhook_id: str, timestamp: datetime, body: str, secrets: list[str]) -> dict[str, str]:
    """Standard Webhooks headers; one `v1,` signature per secret so receivers can rotate."""
    headers = {"webhook-id": webhook_id, "webhook-timestamp": str(int(timestamp.timestamp()))}
    if secrets:
        headers["webhook-signature"] = " ".join(
            Webhook(secret).sign(webhook_id, timestamp, body) for secret in secrets
        )
    return headers


def secret_list(value: str) -> list[str]:
    """Comma-separated secrets (a rotation: the first signs, every one verifies), blanks dropped."""
    return [secret.strip() for secret in value.split(",") if secret.strip()]


def hex_hmac(*, secret: str, message: bytes) -> str:
    """Lowercase hex HMAC-SHA256: the wallet's X-Signature and the providers' x-<provider>-signature."""
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def hex_hmac_valid(*, given: str, secret: str, message: bytes) -> bool:
    """Constant time; upper-case hex is accepted."""
    return hmac.compare_digest(given.lower().encode(), hex_hmac(secret=secret, message=message).encode())


def wallet_signature(*, body: bytes, timestamp: str, secret: str) -> str:
    """Lowercase hex HMAC-SHA256 over the raw body bytes followed by the X-Timestamp string."""
    return hex_hmac(secret=secret, message=body + timestamp.encode())


def wallet_signature_valid(
    *, body: bytes, timestamp: str | None, signature: str | None, secrets: list[str], tolerance_seconds: int,
    now: float | None = None,
) -> bool:
    """Timestamp within tolerance either way, and the signature of any current secret matches.
    Every secret is compared (constant time) so timing says nothing about which one matched."""
    if not timestamp or not signature or not UNIX_SECONDS.fullmatch(timestamp):  # isdigit() takes "²"
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance_seconds:
        return False
    given = signature.encode()
    matches = [hmac.compare_digest(wallet_signature(body=body, timestamp=timestamp, secret=s).encode(), given) for s in secrets]
    return any(matches)
