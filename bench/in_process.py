"""Debits and Careem orders sent in process through Django's test client, signed as their callers
sign them: the work that `cost_bench.py` times and `instructions_bench.py` counts."""

import json
import time
import uuid


def post_debits(count: int) -> int:
    """`count` debits of 1 cent by 50 players; each must answer 201. Returns `count`."""
    from django.conf import settings
    from django.test import Client

    from hub.signing import secret_list, wallet_signature

    client, secret = Client(HTTP_HOST="127.0.0.1"), secret_list(settings.WALLET_HMAC_SECRET)[0]
    requests = []
    for n in range(count):
        body = json.dumps({"playerId": f"in-process-{n % 50}", "amountCents": 1, "currency": "USD",
                           "refId": f"p-{uuid.uuid4().hex}"}, separators=(",", ":")).encode()
        stamp = str(int(time.time()))
        requests.append((body, {"HTTP_X_TIMESTAMP": stamp, "HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4()),
                                "HTTP_X_SIGNATURE": wallet_signature(body=body, timestamp=stamp, secret=secret)}))
    for body, headers in requests:
        response = client.post("/wallet/debit", body, content_type="application/json", **headers)
        if response.status_code != 201:
            raise SystemExit(f"debit answered {response.status_code}: {response.content[:200]!r}")
    return count


def post_orders(count: int) -> int:
    """`count` Careem order webhooks, as `http_bench.py` sends them; each must answer 200. Returns `count`."""
    from django.test import Client

    from hub.signing import hex_hmac
    from providers.config import intake_settings

    client, secret = Client(HTTP_HOST="127.0.0.1"), intake_settings("careem").secret
    requests = []
    for _ in range(count):
        body = json.dumps({"order_id": f"in-process-{uuid.uuid4().hex}", "customer": {"name": "In", "phone": "0790000000"},
                           "items": [{"name": "Burger", "quantity": 1, "price": 10}], "total_amount": 10},
                          separators=(",", ":")).encode()
        requests.append((body, hex_hmac(secret=secret, message=body)))
    for body, signature in requests:
        response = client.post("/api/webhooks/careem", body, content_type="application/json",
                               HTTP_X_CAREEM_SIGNATURE=signature)
        if response.status_code != 200:
            raise SystemExit(f"intake answered {response.status_code}: {response.content[:200]!r}")
    return count
