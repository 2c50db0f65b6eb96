"""Careem's POS API (:8004) and the Delivery Hero middleware (:8005), as far as the hub's decisions use them.

Both issue bearer tokens that expire (`expires_in` = the `token_seconds` they were built with, env
`MOCK_PROVIDER_TOKEN_SECONDS`), answer 401 to a missing, unknown or expired bearer, and keep a state
machine per order that answers 409 `{"currentState"}` to an impossible change. An order they have not
seen starts as Careem `pending` / Delivery Hero `RECEIVED`. Faults (a 409 with another `currentState`,
a scripted 401) come from the common `/__control/script`.
`/__control/orders` shows every order's state and history; `/__control/expire-tokens` ends every
token now (the next call gets 401).
"""

import hmac
import secrets
import time
from datetime import UTC, datetime, timedelta

from werkzeug.wrappers import Request, Response

from mock_services.framework import Bounded, MockRoute, MockService, json_response, read_json

CAREEM_REASONS = {"ITEM_PERMANENTLY_NOT_AVAILABLE", "ITEM_TEMPORARILY_UNAVAILABLE", "KITCHEN_TOO_BUSY_TO_PREPARE_ORDER",
                  "OUT_OF_KITCHEN_OPERATIONAL_HOURS", "OUTLET_CLOSED", "PARTNER_POS_OUTAGE", "PARTNER_ORDER_TIMEOUT",
                  "OTHER"}
DELIVERY_HERO_REASONS = {
    "ADDRESS_INCOMPLETE_MISSTATED", "BAD_WEATHER", "BLACKLISTED", "CARD_READER_NOT_AVAILABLE", "CLOSED",
    "CONTENT_WRONG_MISLEADING", "FOOD_QUALITY_SPILLAGE", "FRAUD_PRANK", "ITEM_UNAVAILABLE", "LATE_DELIVERY",
    "MENU_ACCOUNT_SETTINGS", "MOV_NOT_REACHED", "NO_COURIER", "NO_PICKER", "NO_RESPONSE", "OUTSIDE_DELIVERY_AREA",
    "TECHNICAL_PROBLEM", "TEST_ORDER", "TOO_BUSY", "UNABLE_TO_FIND", "UNABLE_TO_PAY", "UNPROFESSIONAL_BEHAVIOUR",
    "WILL_NOT_WORK_WITH_PLATFORM", "WRONG_ORDER_ITEMS_DELIVERED",
}
MIN_ACCEPTANCE_AHEAD = timedelta(minutes=2) - timedelta(seconds=30)  # slack for the clocks and the queue


class ProviderApiMock(MockService):
    """Tokens, bearer checks and per-order states shared by both fakes."""

    transitions: dict[str, set[str]] = {}  # state → the states it may move to
    initial_state = ""

    def __init__(self, *, credentials: dict[str, str], token_seconds: int) -> None:
        self._credentials = credentials
        self._token_seconds = token_seconds
        self._tokens: dict[str, float] = {}  # token → expiry (monotonic)
        self._orders: dict[str, dict] = Bounded()
        self.menus: dict[str, dict] = Bounded()  # what the fake holds per store/site: GET /__control/menus
        super().__init__()

    def control_routes(self) -> list[MockRoute]:
        return [MockRoute("__orders", "/__control/orders", ("GET",), self.list_orders),
                MockRoute("__menus", "/__control/menus", ("GET",), self.list_menus),
                MockRoute("__expire", "/__control/expire-tokens", ("POST",), self.expire_tokens)]

    def reset_state(self) -> None:
        self._tokens.clear()
        self._orders.clear()
        self.menus.clear()

    def issue_token(self, request: Request) -> Response:
        form = request.form
        given = {name: form.get(name, "") for name in self._credentials}
        valid = all(hmac.compare_digest(given[name].encode(), value.encode()) for name, value in self._credentials.items())
        if form.get("grant_type") != "client_credentials" or not valid:
            return json_response({"error": "invalid_client"}, status=401)
        token = secrets.token_urlsafe(24)
        with self.lock:
            self._tokens[token] = time.monotonic() + self._token_seconds
        return json_response({"access_token": token, "token_type": "bearer", "expires_in": self._token_seconds})

    def bearer_valid(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        with self.lock:
            expiry = self._tokens.get(token)
        return scheme.lower() == "bearer" and expiry is not None and expiry > time.monotonic()

    def move(self, order_id: str, new_state: str, **details: str) -> Response | None:
        """Apply a change; None when done, else the 409 answer."""
        with self.lock:
            order = self._orders.setdefault(order_id, {"state": self.initial_state, "history": []})
            if new_state != order["state"] and new_state not in self.transitions.get(order["state"], set()):
                return json_response({"message": "Invalid state change", "currentState": order["state"]}, status=409)
            order["state"] = new_state
            order["history"].append({"state": new_state, **details, "at": datetime.now(UTC).isoformat()})
        return None

    def authorized_body(self, request: Request) -> dict | Response:
        """The JSON object a call carries, or the answer that refuses it: 401 without a live bearer, 400
        for a body that is not a JSON object."""
        if not self.bearer_valid(request):
            return json_response({"message": "Unauthorized"}, status=401)
        try:
            body = read_json(request)
        except ValueError:
            return json_response({"message": "malformed JSON"}, status=400)
        return body if isinstance(body, dict) else json_response({"message": "body must be an object"}, status=400)

    def state_of(self, order_id: str) -> str:
        """The order's state; "" for an order the fake has not seen."""
        with self.lock:
            order = self._orders.get(order_id)
            return order["state"] if order else ""

    def note(self, order_id: str, **details: str) -> None:
        """Record a call in the order's history without changing its state (a sync report, a prep stage)."""
        with self.lock:
            order = self._orders.setdefault(order_id, {"state": self.initial_state, "history": []})
            order["history"].append({"state": order["state"], **details, "at": datetime.now(UTC).isoformat()})

    def list_orders(self, request: Request) -> Response:
        with self.lock:
            orders = {order_id: {"state": o["state"], "history": list(o["history"])} for order_id, o in self._orders.items()}
        return json_response({"count": len(orders), "orders": orders})

    def list_menus(self, request: Request) -> Response:
        with self.lock:
            menus = dict(self.menus)
        return json_response({"count": len(menus), "menus": menus})

    def expire_tokens(self, request: Request) -> Response:
        with self.lock:
            self._tokens.clear()
        return json_response({"expired": True})


class CareemMock(ProviderApiMock):
    name = "careem"
    initial_state = "pending"
    transitions = {"pending": {"accepted", "cancelled"}, "accepted": {"ready", "cancelled"}, "ready": {"cancelled"}}

    def routes(self) -> list[MockRoute]:
        return [
            MockRoute("token", "/token", ("POST",), self.issue_token),
            MockRoute("order_state", "/pos/api/v1/orders/<order_id>", ("PUT", "GET"), self.order_state),
        ]

    def order_state(self, request: Request, order_id: str) -> Response:
        if not self.bearer_valid(request):
            return json_response({"error": "unauthorized"}, status=401)
        if request.method == "GET":
            with self.lock:
                order = self._orders.get(order_id)
            return json_response({"id": order_id, "state": order["state"]}) if order else json_response(
                {"error": "order_not_found"}, status=404)
        missing = [name for name in ("Brand-Id", "Branch-Id", "User-Agent") if not request.headers.get(name)]
        try:
            body = read_json(request)
        except ValueError:
            return json_response({"error": "malformed_json"}, status=400)
        state = body.get("state") if isinstance(body, dict) else None
        problems = [f"{name} header is required" for name in missing]
        if state not in {"accepted", "ready", "cancelled"}:
            problems.append("state must be accepted, ready or cancelled")
        if state == "cancelled" and body.get("cancellation_reason") not in CAREEM_REASONS:
            problems.append("cancellation_reason must be one of Careem's reasons")
        if problems:
            return json_response({"error": "bad_request", "details": problems}, status=400)
        refused = self.move(order_id, str(state), reason=str(body.get("cancellation_reason", "")))
        return refused or json_response({"id": order_id, "state": state})


class TalabatMock(ProviderApiMock):
    name = "talabat"
    initial_state = "RECEIVED"
    transitions = {"RECEIVED": {"ACCEPTED", "REJECTED"}, "WAITING_FOR_ACKNOWLEDGEMENT": {"ACCEPTED", "REJECTED"},
                   "ACCEPTED": {"PREPARED", "PICKED_UP"}, "PREPARED": {"PICKED_UP"}}
    statuses = {"order_accepted": "ACCEPTED", "order_rejected": "REJECTED", "order_picked_up": "PICKED_UP"}

    def routes(self) -> list[MockRoute]:
        return [
            MockRoute("login", "/v2/login", ("POST",), self.issue_token),
            MockRoute("order_status", "/v2/order/status/<token>", ("POST",), self.order_status),
            MockRoute("prepared", "/v2/orders/<token>/preparation-completed", ("POST",), self.prepared),
        ]

    def order_status(self, request: Request, token: str) -> Response:
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        status = body.get("status")
        if status not in self.statuses:
            return json_response({"message": "status must be order_accepted, order_rejected or order_picked_up"}, 400)
        if status == "order_accepted" and not self._acceptance_valid(body):
            return json_response({"message": "acceptanceTime must be RFC 3339, at least 2 minutes ahead; "
                                             "remoteOrderId is required"}, status=400)
        if status == "order_rejected" and body.get("reason") not in DELIVERY_HERO_REASONS:
            return json_response({"message": "unknown reason"}, status=400)
        refused = self.move(token, self.statuses[status], reason=str(body.get("reason", "")),
                            acceptanceTime=str(body.get("acceptanceTime", "")),
                            remoteOrderId=str(body.get("remoteOrderId", "")))
        return refused or json_response({"message": "Order status successfully changed."})

    def prepared(self, request: Request, token: str) -> Response:
        if not self.bearer_valid(request):
            return json_response({"message": "Unauthorized"}, status=401)
        return self.move(token, "PREPARED") or json_response({"message": "Order status successfully changed."})

    @staticmethod
    def _acceptance_valid(body: dict) -> bool:
        try:
            acceptance = datetime.fromisoformat(str(body.get("acceptanceTime", "")).replace("Z", "+00:00"))
        except ValueError:
            return False
        ahead = acceptance.tzinfo is not None and acceptance - datetime.now(UTC) >= MIN_ACCEPTANCE_AHEAD
        return ahead and isinstance(body.get("remoteOrderId"), str) and bool(body["remoteOrderId"])
