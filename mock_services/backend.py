"""The restaurant backend: receives orders and order status changes, `X-AUTH` required."""

import hmac

from werkzeug.wrappers import Request, Response

from mock_services.framework import Bounded, MockRoute, MockService, json_response, read_json
from hub.signing import secret_list


class BackendMock(MockService):
    name = "backend"

    def __init__(self, *, api_key: str) -> None:
        self._api_keys = [key.encode() for key in secret_list(api_key)]  # during a rotation the backend takes both
        self._orders: dict[str, dict] = Bounded()
        super().__init__()

    def routes(self) -> list[MockRoute]:
        return [
            MockRoute("orders", "/api/v1/orders", ("POST",), self.create_order),
            MockRoute("order_status", "/api/v1/orders/<order_id>/status", ("POST",), self.change_status),
        ]

    def control_routes(self) -> list[MockRoute]:
        return [MockRoute("__orders", "/__control/orders", ("GET",), self.list_orders)]

    def reset_state(self) -> None:
        self._orders.clear()

    def _authorized(self, request: Request) -> bool:
        given = request.headers.get("X-AUTH", "").encode()
        return any([hmac.compare_digest(given, key) for key in self._api_keys])

    @staticmethod
    def _envelope(request: Request) -> dict | Response:
        """The parsed envelope, or the error answer."""
        try:
            envelope = read_json(request)
        except ValueError:
            return json_response({"error": "malformed_json"}, status=400)
        valid = (
            isinstance(envelope, dict)
            and isinstance(envelope.get("id"), str)
            and isinstance(envelope.get("data"), dict)
        )
        if not valid:
            return json_response({"error": "invalid_envelope", "details": ["need id and data"]}, status=400)
        return envelope

    def create_order(self, request: Request) -> Response:
        if not self._authorized(request):
            return json_response({"error": "unauthorized"}, status=401)
        envelope = self._envelope(request)
        if isinstance(envelope, Response):
            return envelope
        order_id = envelope["data"].get("id")
        if not isinstance(order_id, str) or not order_id:
            return json_response({"error": "invalid_order", "details": ["data.id is required"]}, status=400)
        with self.lock:
            if order_id in self._orders:
                return json_response({"orderId": order_id, "duplicate": True})
            self._orders[order_id] = {"order": envelope["data"], "statuses": [], "eventIds": [envelope["id"]]}
        return json_response({"orderId": order_id}, status=201)

    def change_status(self, request: Request, order_id: str) -> Response:
        if not self._authorized(request):
            return json_response({"error": "unauthorized"}, status=401)
        envelope = self._envelope(request)
        if isinstance(envelope, Response):
            return envelope
        status = envelope["data"].get("status")
        if not isinstance(status, str) or not status:
            return json_response({"error": "invalid_status", "details": ["data.status is required"]}, status=400)
        with self.lock:
            order = self._orders.get(order_id)
            if order is None:
                return json_response({"error": "order_not_found"}, status=404)
            if envelope["id"] in order["eventIds"]:
                return json_response({"orderId": order_id, "status": order["statuses"][-1], "duplicate": True})
            order["eventIds"].append(envelope["id"])
            order["statuses"].append(status)
        return json_response({"orderId": order_id, "status": status})

    def list_orders(self, request: Request) -> Response:
        with self.lock:
            orders = [
                {"orderId": order_id, "order": entry["order"], "statuses": list(entry["statuses"])}
                for order_id, entry in self._orders.items()
            ]
        return json_response({"count": len(orders), "orders": orders})
