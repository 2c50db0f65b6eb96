"""Send the restaurant's decision on an order to the hub's decision API, as the backend does (demos, support)."""

import json
import uuid

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hub.signing import secret_list

from providers.adapters import ADAPTERS
from providers.models import Order


class Command(BaseCommand):
    help = "POST /api/orders/<id>/accept|reject|ready|picked-up with X-AUTH, for an order named by provider and id."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["accept", "reject", "ready", "picked-up"])
        parser.add_argument("order", help="the hub's order id, or PROVIDER:ID with the provider's own order id "
                                          "(e.g. careem:62504546; looked up in this hub's database)")
        parser.add_argument("--reason", help="reject: a Delivery Hero reason code, e.g. TOO_BUSY")
        parser.add_argument("--message", default="")
        parser.add_argument("--preparation-minutes", type=int, help="accept: 1-120")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the hub's base URL")

    def handle(self, *args, action: str, order: str, reason: str | None, message: str,
               preparation_minutes: int | None, url: str, **options) -> None:
        order_id = _order_id(order)
        body: dict = {}
        if action == "accept" and preparation_minutes is not None:
            body["preparationMinutes"] = preparation_minutes
        if action == "reject":
            body = {"reason": reason or "", "message": message}
        path = f"/api/orders/{order_id}/{action}"
        try:
            answer = requests.post(url.rstrip("/") + path, data=json.dumps(body), timeout=30,
                                   headers={"Content-Type": "application/json", "X-AUTH": secret_list(settings.BACKEND_CALLBACK_KEY)[0]})
        except requests.RequestException as exc:
            raise CommandError(f"cannot reach the hub at {url}: {exc}") from exc
        self.stdout.write(f"POST {path} → HTTP {answer.status_code}")
        self.stdout.write(answer.text)


def _order_id(order: str) -> str:
    try:
        return str(uuid.UUID(order))
    except ValueError:
        pass
    provider, _, external_order_id = order.partition(":")
    if provider not in ADAPTERS or not external_order_id:
        raise CommandError("name the order by its hub id or as PROVIDER:ID, e.g. careem:62504546")
    found = Order.objects.filter(provider=provider, external_order_id=external_order_id).values_list("id", flat=True).first()
    if found is None:
        raise CommandError(f"no {provider} order {external_order_id!r} in this hub's database")
    return str(found)
