"""Sign and send a wallet request, the way the RGS does (what Postman's pre-request script did)."""

import json
import time
import uuid
from urllib.parse import quote, urlencode

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hub.signing import secret_list, wallet_signature


class Command(BaseCommand):
    help = "Sign and send POST /wallet/debit|credit|rollback (or GET a transaction or a balance) and print the answer."

    def add_arguments(self, parser) -> None:
        parser.add_argument("operation", choices=["debit", "credit", "rollback", "get", "balance", "round"])
        parser.add_argument("--player", default="player-1")
        parser.add_argument("--amount", type=int, help="minor units (cents); debit and credit")
        parser.add_argument("--currency", default="USD")
        parser.add_argument("--ref", help="refId (default: a new one)")
        parser.add_argument("--original", help="rollback: the refId of the debit to roll back")
        parser.add_argument("--round", help="debit, credit: the roundId; round: the round to show")
        parser.add_argument("--close-round", action="store_true", help="debit, credit: roundClosed: true")
        parser.add_argument("--bet", help="credit: betRefId, the debit it pays")
        parser.add_argument("--kind", choices=["WIN", "BONUS", "JACKPOT", "PROMO", "ADJUSTMENT"], help="credit")
        parser.add_argument("--key", help="Idempotency-Key (default: a new one)")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the hub's base URL")
        parser.add_argument("--secret", help="signing secret (default: the first of WALLET_HMAC_SECRET)")

    def handle(self, *args, operation: str, **o) -> None:
        secret = o["secret"] or secret_list(settings.WALLET_HMAC_SECRET)[0]
        ref_id = o["ref"] or f"ref-{uuid.uuid4().hex[:16]}"
        if operation == "get":
            method, path, body = "GET", f"/wallet/transactions/{quote(ref_id, safe='')}", b""
        elif operation == "round":
            if not o["round"]:
                raise CommandError("round needs --round ROUNDID")
            method, path, body = "GET", f"/wallet/rounds/{quote(o['round'], safe='')}", b""
        elif operation == "balance":
            query = urlencode({"playerId": o["player"], "currency": o["currency"]})
            method, path, body = "GET", f"/wallet/balance?{query}", b""
        elif operation == "rollback":
            if not o["original"]:
                raise CommandError("rollback needs --original REFID")
            payload = {"playerId": o["player"], "refId": ref_id, "originalRefId": o["original"]}
            method, path, body = "POST", "/wallet/rollback", json.dumps(payload).encode()
        else:
            if o["amount"] is None:
                raise CommandError(f"{operation} needs --amount (minor units)")
            payload = {"playerId": o["player"], "amountCents": o["amount"], "currency": o["currency"], "refId": ref_id,
                       **_round_fields(operation, o)}
            method, path, body = "POST", f"/wallet/{operation}", json.dumps(payload).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Timestamp": timestamp,
                   "X-Signature": wallet_signature(body=body if method == "POST" else path.encode(), timestamp=timestamp,
                                                   secret=secret)}
        if method == "POST":
            headers["Idempotency-Key"] = o["key"] or str(uuid.uuid4())
        try:
            answer = requests.request(method, o["url"].rstrip("/") + path, data=body, headers=headers, timeout=30)
        except requests.RequestException as exc:
            raise CommandError(f"cannot reach the hub at {o['url']}: {exc}") from exc
        self.stdout.write(f"{method} {path}  refId={ref_id}  Idempotency-Key={headers.get('Idempotency-Key', '-')}")
        self.stdout.write(f"HTTP {answer.status_code}" + ("  (replayed)" if answer.headers.get("Idempotent-Replayed") else ""))
        self.stdout.write(answer.text)


def _round_fields(operation: str, options: dict) -> dict:
    fields = {"roundId": options["round"], "roundClosed": True if options["close_round"] else None}
    if operation == "credit":
        fields.update(betRefId=options["bet"], kind=options["kind"])
    return {name: value for name, value in fields.items() if value is not None}
