"""The RGS (game server) webhook receiver: verifies Standard Webhooks signatures."""

import json
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug.wrappers import Request, Response

from mock_services.framework import Bounded, MockRoute, MockService, json_response


class RgsMock(MockService):
    name = "rgs"

    def __init__(self, *, secrets: list[str]) -> None:
        # Several secrets model the receiver's side of a rotation: any one verifies.
        self._verifiers = [Webhook(secret) for secret in secrets]
        self._accepted: dict[str, dict] = Bounded()
        super().__init__()

    def routes(self) -> list[MockRoute]:
        return [MockRoute("webhooks", "/webhooks", ("POST",), self.receive)]

    def control_routes(self) -> list[MockRoute]:
        return [MockRoute("__accepted", "/__control/webhooks", ("GET",), self.accepted)]

    def reset_state(self) -> None:
        self._accepted.clear()

    def _verified(self, body: bytes, headers: dict[str, str]) -> bool:
        for verifier in self._verifiers:
            try:
                verifier.verify(body, headers, json_parse=False)
                return True
            except (WebhookVerificationError, ValueError):  # ValueError: malformed header or base64
                continue
        return False

    def receive(self, request: Request) -> Response:
        body = request.get_data()
        if not self._verified(body, dict(request.headers.items())):
            return json_response({"error": "invalid_signature"}, status=401)
        try:
            event = json.loads(body)
        except ValueError:
            return json_response({"error": "malformed_json"}, status=400)
        webhook_id = request.headers["webhook-id"]
        with self.lock:
            entry = self._accepted.get(webhook_id)
            if entry is None:
                entry = self._accepted[webhook_id] = {
                    "webhookId": webhook_id,
                    "type": event.get("type") if isinstance(event, dict) else None,
                    "data": event.get("data") if isinstance(event, dict) else None,
                    "count": 0,
                    "firstReceivedAt": datetime.now(UTC).isoformat(),
                }
            entry["count"] += 1
            duplicate = entry["count"] > 1
        return json_response({"received": True, "duplicate": duplicate})

    def accepted(self, request: Request) -> Response:
        """Accepted deliveries by distinct `webhook-id`, in the order first seen."""
        with self.lock:
            items = [dict(entry) for entry in self._accepted.values()]
        return json_response(
            {"distinct": len(items), "deliveries": sum(item["count"] for item in items), "items": items}
        )
