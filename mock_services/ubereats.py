"""Uber Eats' order API (:8007), as far as the hub's fetches and decisions use it (SPEC §5, §7b).

`POST /oauth/v2/token` (client credentials, as the other fakes); `GET /v2/eats/order/<id>` (route `order`)
answers the order seeded by `POST /__control/orders {"order": {…}}`, its `current_state` the fake's, or 404
(with `"template": true` the order is served for every id not seeded, under that id: benchmarks and demos);
`POST /v1/eats/orders/<id>/accept_pos_order` (route `accept`), `/deny_pos_order` (`deny`) and `/cancel`
(`cancel`) move it: CREATED → ACCEPTED | DENIED, ACCEPTED → CANCELED, otherwise 409 (cancel: 404 for an
unknown or finished order, as Uber documents). `PUT /v2/eats/stores/<store>/menus` (route `menus`) replaces
the store's whole menu at once (**204**), or answers **400** with every problem of its references, ids and
prices; `GET /__control/menus` shows each store's. Every call needs a live bearer; answers are 204.
"""

import hashlib
import hmac
import re

from werkzeug.wrappers import Request, Response

from mock_services.delivery_providers import ProviderApiMock
from mock_services.framework import Bounded, MockRoute, json_response, read_json

DENY_CODES = {"STORE_CLOSED", "POS_NOT_READY", "POS_OFFLINE", "ITEM_AVAILABILITY", "MISSING_ITEM", "MISSING_INFO",
              "PRICING", "CAPACITY", "ADDRESS", "SPECIAL_INSTRUCTIONS", "OTHER"}
CANCEL_REASONS = {"OUT_OF_ITEMS", "KITCHEN_CLOSED", "CUSTOMER_CALLED_TO_CANCEL", "RESTAURANT_TOO_BUSY",
                  "CANNOT_COMPLETE_CUSTOMER_NOTE", "OTHER"}


class UberEatsMock(ProviderApiMock):
    name = "ubereats"
    webhook_secret_variable = "UBEREATS_CLIENT_SECRET"  # Uber signs its webhooks with the app's client secret
    dev_webhook_secret = "dev-insecure-ubereats-client-secret"
    initial_state = "CREATED"
    transitions = {"CREATED": {"ACCEPTED", "DENIED", "CANCELED"}, "OFFERED": {"ACCEPTED", "DENIED", "CANCELED"},
                   "ACCEPTED": {"CANCELED", "FINISHED"}}  # OFFERED: the Order Fulfillment API's new order

    def __init__(self, **kwargs) -> None:
        self._seeded: dict[str, dict] = Bounded()
        self._template: dict | None = None
        super().__init__(**kwargs)

    def routes(self) -> list[MockRoute]:
        return [
            MockRoute("token", "/oauth/v2/token", ("POST",), self.issue_token),
            MockRoute("order", "/v2/eats/order/<order_id>", ("GET",), self.get_order),
            MockRoute("accept", "/v1/eats/orders/<order_id>/accept_pos_order", ("POST",), self.accept),
            MockRoute("deny", "/v1/eats/orders/<order_id>/deny_pos_order", ("POST",), self.deny),
            MockRoute("cancel", "/v1/eats/orders/<order_id>/cancel", ("POST",), self.cancel),
            MockRoute("menus", "/v2/eats/stores/<store_id>/menus", ("PUT",), self.upload_menu),
            MockRoute("item", "/v2/eats/stores/<store_id>/menus/items/<item_id>", ("POST",), self.update_item),
            MockRoute("store_status", "/v1/eats/store/<store_id>/status", ("POST",), self.set_store_status),
        ]

    def update_item(self, request: Request, store_id: str, item_id: str) -> Response:
        """A sparse update of one item; 404 when the store has no menu or no such item."""
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        with self.lock:
            menu = self.menus.get(store_id)
        if menu is None or item_id not in {item.get("id") for item in menu.get("items", [])}:
            return json_response({"code": "not_found", "message": "no such item in the store's menu"}, status=404)
        suspension = ((body.get("suspension_info") or {}).get("suspension") or {})
        if type(suspension.get("suspend_until")) is not int:
            return json_response({"code": "invalid", "message": "suspension_info.suspension.suspend_until"}, status=400)
        self.note_availability(store_id, {item_id: suspension["suspend_until"]})
        return Response(status=204)

    def set_store_status(self, request: Request, store_id: str) -> Response:
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        if body.get("status") not in {"ONLINE", "PAUSED"}:
            return json_response({"code": "invalid", "message": "status ONLINE or PAUSED"}, status=400)
        self.note_status(store_id, body)
        return Response(status=204)

    def control_routes(self) -> list[MockRoute]:
        return [*super().control_routes(), MockRoute("__seed", "/__control/orders", ("POST",), self.seed)]

    def reset_state(self) -> None:
        super().reset_state()
        self._seeded.clear()
        self._template = None

    def seed(self, request: Request) -> Response:
        try:
            body = read_json(request)
        except ValueError:
            return json_response({"error": "malformed_json"}, status=400)
        order = body.get("order") if isinstance(body, dict) else None
        if not isinstance(order, dict) or not isinstance(order.get("id"), str):
            return json_response({"error": "invalid_order", "details": ["order must be an object with an id"]}, 400)
        with self.lock:
            if body.get("template") is True:
                self._template = order
            else:
                self._seeded[order["id"]] = order
                state = order.get("current_state") or order.get("state") or self.initial_state
                self._orders[order["id"]] = {"state": str(state), "history": []}
        return json_response({"seeded": order["id"], "template": body.get("template") is True})

    def get_order(self, request: Request, order_id: str) -> Response:
        if not self.bearer_valid(request):
            return json_response({"message": "Unauthorized"}, status=401)
        with self.lock:
            order = self._seeded.get(order_id) or ({**self._template, "id": order_id} if self._template else None)
        if order is None:
            return json_response({"code": "not_found", "message": "order not found"}, status=404)
        state = self.state_of(order_id) or self.initial_state
        if "carts" in order:  # the Order Fulfillment API's form: in its envelope, its state under "state"
            return json_response({"order": {**order, "state": state}})
        return json_response({**order, "current_state": state})

    def accept(self, request: Request, order_id: str) -> Response:
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        if not isinstance(body.get("reason"), str):
            return json_response({"message": "reason is required"}, status=400)
        return self.move(order_id, "ACCEPTED") or Response(status=204)

    def deny(self, request: Request, order_id: str) -> Response:
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        reason = body.get("reason")
        if not isinstance(reason, dict) or reason.get("code") not in DENY_CODES:
            return json_response({"message": "reason.code must be one of the deny codes"}, status=400)
        return self.move(order_id, "DENIED", reason=str(reason["code"])) or Response(status=204)

    def cancel(self, request: Request, order_id: str) -> Response:
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        if body.get("reason") not in CANCEL_REASONS:
            return json_response({"message": "reason must be one of the cancel reasons"}, status=400)
        if self.state_of(order_id) not in {"CREATED", "OFFERED", "ACCEPTED"}:
            return json_response({"message": "order not found or finished"}, status=404)
        return self.move(order_id, "CANCELED", reason=str(body["reason"])) or Response(status=204)

    def upload_menu(self, request: Request, store_id: str) -> Response:
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        problems = menu_problems(body)
        if problems:
            return json_response({"code": "invalid_menu", "message": "; ".join(problems[:20]), "errors": problems},
                                 status=400)
        with self.lock:
            self.menus[store_id] = body
        return Response(status=204)

    def signature_headers(self, secret: str, body: bytes) -> dict[str, str]:
        """Uber's `X-Uber-Signature`: lowercase hex HMAC-SHA256 of the raw body with the client secret."""
        return {"X-Uber-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


UBER_ID = re.compile(r"[^/;]{1,256}")


def menu_problems(menu: dict) -> list[str]:
    """What Uber checks of a menu: the four lists, ids without "/" or ";", references, integer prices."""
    raw = {key: menu.get(key) for key in ("menus", "categories", "items", "modifier_groups")}
    problems = [f"{key} must be a list" for key, value in raw.items() if not isinstance(value, list)]
    if problems:
        return problems
    lists: dict[str, list] = {key: value for key, value in raw.items() if isinstance(value, list)}
    ids = {key: {e.get("id") for e in value if isinstance(e, dict)} for key, value in lists.items()}
    for key, value in lists.items():
        for entity in value:
            if not isinstance(entity, dict) or not isinstance(entity.get("id"), str) or not UBER_ID.fullmatch(entity["id"]):
                problems.append(f"{key}: an id is missing or holds '/' or ';'")
    for menu_entry in lists["menus"]:
        problems += [f"menu {menu_entry.get('id')}: no category {c}" for c in menu_entry.get("category_ids", [])
                     if c not in ids["categories"]]
    for category in lists["categories"]:
        problems += [f"category {category.get('id')}: no item {e.get('id')}" for e in category.get("entities", [])
                     if e.get("id") not in ids["items"]]
    for item in lists["items"]:
        price = (item.get("price_info") or {}).get("price")
        if type(price) is not int or price < 0:
            problems.append(f"item {item.get('id')}: price_info.price must be an integer of minor units")
        problems += [f"item {item.get('id')}: no modifier group {g}"
                     for g in (item.get("modifier_group_ids") or {}).get("ids", []) if g not in ids["modifier_groups"]]
    for group in lists["modifier_groups"]:
        quantity = ((group.get("quantity_info") or {}).get("quantity") or {})
        if quantity.get("min_permitted", 0) > quantity.get("max_permitted", 1):
            problems.append(f"modifier group {group.get('id')}: min_permitted above max_permitted")
        problems += [f"modifier group {group.get('id')}: no item {o.get('id')}"
                     for o in group.get("modifier_options", []) if o.get("id") not in ids["items"]]
    return problems
