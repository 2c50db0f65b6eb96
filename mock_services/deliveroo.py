"""Deliveroo's Order API (:8006), as far as the hub's decisions use it (SPEC §5, §7b).

`POST /oauth2/token` (client credentials, as the other fakes); `PATCH /order/v1/orders/<id>`
`{"status": "accepted" | "rejected" | "confirmed", "reject_reason", "notes"}` (route `order`);
`POST /order/v1/orders/<id>/sync_status` `{"status": "succeeded" | "failed", "reason", "occurred_at"}`
(route `sync_status`); `POST /order/v1/orders/<id>/prep_stage` `{"stage", "delay", "occurred_at"}` (route
`prep_stage`). Every call needs a live bearer. An order it has not seen starts `placed`; accepting or
rejecting it twice, or anything but placed → accepted | rejected, answers 409. Answers are 204, as
Deliveroo's are; a refused body is 400 with the reasons.
"""

from werkzeug.wrappers import Request, Response

from mock_services.delivery_providers import ProviderApiMock
from mock_services.framework import MockRoute, json_response

REJECT_REASONS = {"closing_early", "busy", "ingredient_unavailable", "other"}
SYNC_FAILURES = {"price_mismatched", "pos_item_id_mismatched", "pos_item_id_not_found", "items_out_of_stock",
                 "location_offline", "location_not_supported", "unsupported_order_type", "no_webhook_url",
                 "webhook_failed", "timed_out", "other", "no_sync_confirmation"}
PREP_STAGES = {"in_kitchen", "ready_for_collection_soon", "ready_for_collection", "collected"}
PREP_DELAYS = {0, 2, 4, 6, 8, 10}


class DeliverooMock(ProviderApiMock):
    name = "deliveroo"
    initial_state = "placed"
    transitions = {"placed": {"accepted", "rejected", "confirmed"}, "accepted": {"confirmed"}}

    def routes(self) -> list[MockRoute]:
        return [
            MockRoute("token", "/oauth2/token", ("POST",), self.issue_token),
            MockRoute("order", "/order/v1/orders/<order_id>", ("PATCH",), self.update_order),
            MockRoute("sync_status", "/order/v1/orders/<order_id>/sync_status", ("POST",), self.sync_status),
            MockRoute("prep_stage", "/order/v1/orders/<order_id>/prep_stage", ("POST",), self.prep_stage),
        ]

    def update_order(self, request: Request, order_id: str) -> Response:
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        status = body.get("status")
        if status not in {"accepted", "rejected", "confirmed"}:
            return json_response({"message": "status must be accepted, rejected or confirmed"}, status=400)
        if status == "rejected" and body.get("reject_reason") not in REJECT_REASONS:
            return json_response({"message": f"reject_reason must be one of {sorted(REJECT_REASONS)}"}, status=400)
        if (self.state_of(order_id) or self.initial_state) == status:
            return json_response({"message": f"order is already {status}", "currentState": status}, status=409)
        return self.move(order_id, str(status), reason=str(body.get("reject_reason", ""))) or Response(status=204)

    def sync_status(self, request: Request, order_id: str) -> Response:
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        if body.get("status") not in {"succeeded", "failed"} or not body.get("occurred_at"):
            return json_response({"message": "status (succeeded|failed) and occurred_at are required"}, status=400)
        if body["status"] == "failed" and body.get("reason") not in SYNC_FAILURES:
            return json_response({"message": "a failed sync needs one of the documented reasons"}, status=400)
        self.note(order_id, sync=str(body["status"]))
        return Response(status=204)

    def prep_stage(self, request: Request, order_id: str) -> Response:
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        if body.get("stage") not in PREP_STAGES or body.get("delay", 0) not in PREP_DELAYS:
            return json_response({"message": f"stage must be one of {sorted(PREP_STAGES)}"}, status=400)
        if self.state_of(order_id) not in {"accepted", "confirmed"}:
            return json_response({"message": "the order must be accepted before it is prepared",
                                  "currentState": self.state_of(order_id) or self.initial_state}, status=409)
        self.note(order_id, stage=str(body["stage"]))
        return Response(status=204)
