import json
import time
import uuid

from django.conf import settings
from django.test import Client

from hub.signing import secret_list, wallet_signature


def signed_headers(body: bytes, *, timestamp: int | None = None, secret: str | None = None, key: str | None = "auto") -> dict:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "HTTP_X_TIMESTAMP": stamp,
        "HTTP_X_SIGNATURE": wallet_signature(body=body, timestamp=stamp, secret=secret or secret_list(settings.WALLET_HMAC_SECRET)[0]),
    }
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = str(uuid.uuid4()) if key == "auto" else key
    return headers


def signed_get_headers(target: str, **header_options) -> dict:
    """A GET signs its request target (path and query) exactly as sent, in place of a body."""
    return signed_headers(target.encode(), key=None, **header_options)


def wallet_post(client: Client, operation: str, body: dict | bytes, **header_options):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(f"/wallet/{operation}", data=raw, content_type="application/json", **signed_headers(raw, **header_options))


def debit_body(ref_id: str = "ref-1", amount: int = 1234, player: str = "player-1", currency: str = "USD") -> dict:
    return {"playerId": player, "amountCents": amount, "currency": currency, "refId": ref_id}
