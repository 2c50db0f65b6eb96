"""Uber Eats' order API (:8007), as far as the hub's fetches and decisions use it (SPEC §5, §7b).

`POST /oauth/v2/token` (client credentials, as the other fakes); `GET /v2/eats/order/<id>` (route `order`)
answers the order seeded by `POST /__control/orders {"order": {…}}`, its `current_state` the fake's, or 404
(with `"template": true` the order is served for every id not seeded, under that id: benchmarks and demos);
`POST /v1/eats/orders/<id>/accept_pos_order` (route `accept`), `/deny_pos_order` (`deny`) and `/cancel`
(`cancel`) move it: CREATED → ACCEPTED | DENIED, ACCEPTED → CANCELED, otherwise 409 (cancel: 404 for an
unknown or finished order, as Uber documents). Every call needs a live bearer; answers are 204.
"""

from werkzeug.wrappers import Request, Response

from mock_services.delivery_providers import ProviderApiMock
from mock_services.framework import Bounded, MockRoute, json_response, read_json

DENY_CODES = {"STORE_CLOSED", "POS_NOT_READY", "POS_OFFLINE", "ITEM_AVAILABILITY", "MISSING_ITEM", "MISSING_INFO",
              "PRICING", "CAPACITY", "ADDRESS", "SPECIAL_INSTRUCTIONS", "OTHER"}
CANCEL_REASONS = {"OUT_OF_ITEMS", "KITCHEN_CLOSED", "CUSTOMER_CALLED_TO_CANCEL", "RESTAURANT_TOO_BUSY",
                  "CANNOT_COMPLETE_CUSTOMER_NOTE", "OTHER"}


class UberEatsMock(ProviderApiMock):
    name = "ubereats"
    initial_state = "CREATED"
    transitions = {"CREATED": {"ACCEPTED", "DENIED", "CANCELED"}, "ACCEPTED": {"CANCELED", "FINISHED"}}

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
        ]

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
                self._orders[order["id"]] = {"state": str(order.get("current_state") or self.initial_state), "history": []}
        return json_response({"seeded": order["id"], "template": body.get("template") is True})

    def get_order(self, request: Request, order_id: str) -> Response:
        if not self.bearer_valid(request):
            return json_response({"message": "Unauthorized"}, status=401)
        with self.lock:
            order = self._seeded.get(order_id) or ({**self._template, "id": order_id} if self._template else None)
        if order is None:
            return json_response({"code": "not_found", "message": "order not found"}, status=404)
        return json_response({**order, "current_state": self.state_of(order_id) or self.initial_state})

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
        if self.state_of(order_id) not in {"CREATED", "ACCEPTED"}:
            return json_response({"message": "order not found or finished"}, status=404)
        return self.move(order_id, "CANCELED", reason=str(body["reason"])) or Response(status=204)
