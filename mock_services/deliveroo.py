"""Deliveroo's Order API (:8006), as far as the hub's decisions use it (SPEC §5, §7b).

`POST /oauth2/token` (client credentials, as the other fakes); `PATCH /order/v1/orders/<id>`
`{"status": "accepted" | "rejected" | "confirmed", "reject_reason", "notes"}` (route `order`);
`POST /order/v1/orders/<id>/sync_status` `{"status": "succeeded" | "failed", "reason", "occurred_at"}`
(route `sync_status`); `POST /order/v1/orders/<id>/prep_stage` `{"stage", "delay", "occurred_at"}` (route
`prep_stage`). Every call needs a live bearer. An order it has not seen starts `placed`; accepting or
rejecting it twice, or anything but placed → accepted | rejected, answers 409. Answers are 204, as
Deliveroo's are; a refused body is 400 with the reasons.

Menus: `PUT /menu/v1/brands/<brand>/menus/<menu>` (route `menu`) checks the menu's references, types and
integer prices (400 with every problem), allows one upload a minute per site (429 with Retry-After,
`MOCK_MENU_UPLOAD_INTERVAL_SECONDS`), answers 200 at once and posts the `menu.upload_result` webhook to the
hub a moment later, signed as Deliveroo signs (to `MOCK_HUB_URL`, or the URL of `POST /__control/callbacks
{"url"}`). `POST /__control/menu-results {"results": [{"http_status": 400, "errors": […], "delayMs"},
{"drop": true}]}` scripts the next results (a refused menu, a partial one, a result that never comes);
`GET /__control/menus` shows each menu held.
"""

import hashlib
import hmac
import time
import uuid

from django.conf import settings

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
    webhook_secret_variable = "DELIVEROO_WEBHOOK_SECRET"
    dev_webhook_secret = "dev-insecure-deliveroo-webhook-secret"
    initial_state = "placed"
    transitions = {"placed": {"accepted", "rejected", "confirmed"}, "accepted": {"confirmed"}}

    def __init__(self, **kwargs) -> None:
        self._uploads: dict[str, float] = {}  # site → when its last menu was taken (monotonic)
        super().__init__(**kwargs)

    def reset_state(self) -> None:
        super().reset_state()
        self._uploads.clear()

    def routes(self) -> list[MockRoute]:
        return [
            MockRoute("token", "/oauth2/token", ("POST",), self.issue_token),
            MockRoute("order", "/order/v1/orders/<order_id>", ("PATCH",), self.update_order),
            MockRoute("sync_status", "/order/v1/orders/<order_id>/sync_status", ("POST",), self.sync_status),
            MockRoute("prep_stage", "/order/v1/orders/<order_id>/prep_stage", ("POST",), self.prep_stage),
            MockRoute("menu", "/menu/v1/brands/<brand>/menus/<menu_id>", ("PUT",), self.upload_menu),
            MockRoute("item_unavailabilities", "/menu/v1/brands/<brand>/menus/<menu_id>/item_unavailabilities/<site>",
                      ("POST",), self.item_unavailabilities),
            MockRoute("site_status", "/site/v1/brands/<brand>/sites/<site>/status", ("PUT",), self.site_status),
        ]

    def item_unavailabilities(self, request: Request, brand: str, menu_id: str, site: str) -> Response:
        """Only the listed items change; one unknown id fails the whole request (404), as Deliveroo's does."""
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        entries = body.get("item_unavailabilities")
        if not isinstance(entries, list) or any(not isinstance(e, dict) or e.get("status") not in
                                                {"available", "unavailable", "hidden"} for e in entries):
            return json_response({"error": {"code": "bad_request", "message": "item_unavailabilities"}}, status=400)
        with self.lock:
            menu = self.menus.get(f"{brand}/{menu_id}") or {}
        known = {item.get("id") for item in (menu.get("menu") or {}).get("items", [])}
        unknown = [e.get("item_id") for e in entries if e.get("item_id") not in known]
        if unknown:
            return json_response({"error": {"code": "not_found", "message": f"unknown items {unknown[:10]}"}}, 404)
        self.note_availability(site, {str(e["item_id"]): e["status"] for e in entries})
        return Response(status=204)

    def site_status(self, request: Request, brand: str, site: str) -> Response:
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        if body.get("status") not in {"OPEN", "CLOSED", "READY_TO_OPEN"}:
            return json_response({"error": {"code": "bad_request", "message": "status OPEN|CLOSED|READY_TO_OPEN"}}, 400)
        self.note_status(site, body)
        return Response(status=200)

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

    # --- menus ---------------------------------------------------------------------------------------------
    def upload_menu(self, request: Request, brand: str, menu_id: str) -> Response:
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        problems = menu_problems(body)
        if problems:
            return json_response({"error": {"code": "bad_request", "message": "; ".join(problems[:20])},
                                  "errors": problems}, status=400)
        site = str(body["site_ids"][0])
        interval = settings.MOCK_MENU_UPLOAD_INTERVAL_SECONDS
        with self.lock:
            last = self._uploads.get(site)
            if last is not None and time.monotonic() - last < interval:
                wait = int(interval - (time.monotonic() - last)) + 1
                return json_response({"error": {"code": "too_many_requests", "message": "one menu a minute per site"}},
                                     status=429, headers={"Retry-After": str(wait)})
            self._uploads[site] = time.monotonic()
            self.menus[f"{brand}/{menu_id}"] = body
        result, hub_url = self.next_result({"http_status": 200, "errors": []})
        self.post_later(f"{hub_url.rstrip('/')}/api/webhooks/deliveroo", {"event": "menu.upload_result", "body": {
            "http_status": result.get("http_status", 200), "brand_id": brand, "menu_id": menu_id,
            "site_ids": body["site_ids"], "errors": result.get("errors", [])}}, result)
        return json_response({"id": menu_id, "brand_id": brand})

    def signature_headers(self, secret: str, body: bytes) -> dict[str, str]:
        """Deliveroo's: a new sequence GUID per delivery, and the hex HMAC-SHA256 of the GUID, a space and the
        raw body."""
        guid = str(uuid.uuid4())
        signature = hmac.new(secret.encode(), guid.encode() + b" " + body, hashlib.sha256).hexdigest()
        return {"X-Deliveroo-Sequence-Guid": guid, "X-Deliveroo-Hmac-Sha256": signature}


def menu_problems(body: dict) -> list[str]:
    """What Deliveroo checks of a menu upload: its lists, references, CHOICE options and integer prices."""
    menu = body.get("menu")
    if not isinstance(menu, dict) or not isinstance(body.get("site_ids"), list) or not body["site_ids"]:
        return ["menu must be an object and site_ids a non-empty list"]
    raw = {key: menu.get(key) for key in ("categories", "items", "modifiers", "mealtimes")}
    problems = [f"menu.{key} must be a list" for key, value in raw.items() if not isinstance(value, list)]
    if problems:
        return problems
    lists: dict[str, list] = {key: [e for e in value if isinstance(e, dict)] for key, value in raw.items()
                              if isinstance(value, list)}
    items = {item.get("id"): item for item in lists["items"]}
    modifiers = {m.get("id") for m in lists["modifiers"]}
    categories = {c.get("id") for c in lists["categories"]}
    for item_id, item in items.items():
        price = (item.get("price_info") or {}).get("price")
        if type(price) is not int or price < 0:
            problems.append(f"item {item_id}: price_info.price must be an integer of minor units")
        if item.get("type") not in {"ITEM", "CHOICE", "BUNDLE"}:
            problems.append(f"item {item_id}: type must be ITEM, CHOICE or BUNDLE")
        problems += [f"item {item_id}: no modifier {m}" for m in item.get("modifier_ids", []) if m not in modifiers]
    for category in lists["categories"]:
        problems += [f"category {category.get('id')}: no item {i}" for i in category.get("item_ids", []) if i not in items]
    for modifier in lists["modifiers"]:
        problems += [f"modifier {modifier.get('id')}: no item {i}" for i in modifier.get("item_ids", []) if i not in items]
        if modifier.get("min_selection", 0) > modifier.get("max_selection", 1):
            problems.append(f"modifier {modifier.get('id')}: min_selection above max_selection")
    for mealtime in lists["mealtimes"]:
        problems += [f"mealtime {mealtime.get('id')}: no category {c}" for c in mealtime.get("category_ids", [])
                     if c not in categories]
    return problems
