"""Careem's POS API (:8004) and the Delivery Hero middleware (:8005), as far as the hub's decisions use them.

Both issue bearer tokens that expire (`expires_in` = the `token_seconds` they were built with, env
`MOCK_PROVIDER_TOKEN_SECONDS`), answer 401 to a missing, unknown or expired bearer, and keep a state
machine per order that answers 409 `{"currentState"}` to an impossible change. An order they have not
seen starts as Careem `pending` / Delivery Hero `RECEIVED`. Faults (a 409 with another `currentState`,
a scripted 401) come from the common `/__control/script`.
`/__control/orders` shows every order's state and history; `/__control/expire-tokens` ends every
token now (the next call gets 401).
"""

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import requests
from django.conf import settings
from werkzeug.wrappers import Request, Response

from mock_services.framework import Bounded, MockRoute, MockService, json_response, read_json
from hub.signing import secret_list

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
    # How the provider authenticates its posts to the hub, implemented here and not borrowed from the hub (a
    # signing bug of the hub's would otherwise be mirrored by its fake and pass every test): the mode and the
    # secret are read from the environment as the hub reads them, with the same obviously fake defaults.
    webhook_secret_variable = ""
    dev_webhook_secret = ""

    def __init__(self, *, credentials: dict[str, str], token_seconds: int) -> None:
        self._credentials = credentials
        self._token_seconds = token_seconds
        self._tokens: dict[str, float] = {}  # token → expiry (monotonic)
        self._orders: dict[str, dict] = Bounded()
        self.menus: dict[str, dict] = Bounded()  # what the fake holds per store/site: GET /__control/menus
        self._results: list[dict] = []  # scripted asynchronous menu results, in order (POST /__control/menu-results)
        self._callback_url = settings.MOCK_HUB_URL  # where results go when the request names no callback URL
        self._pending = 0  # results scheduled and not posted yet
        self.availability: dict[str, dict[str, Any]] = Bounded()  # store/site → item → what it was last told
        self.store_status: dict[str, Any] = Bounded()  # store/site → its last status call's body
        super().__init__()

    def control_routes(self) -> list[MockRoute]:
        return [MockRoute("__orders", "/__control/orders", ("GET",), self.list_orders),
                MockRoute("__menus", "/__control/menus", ("GET",), self.list_menus),
                MockRoute("__callbacks", "/__control/callbacks", ("POST",), self.set_callbacks),
                MockRoute("__menu_results", "/__control/menu-results", ("POST",), self.script_results),
                MockRoute("__expire", "/__control/expire-tokens", ("POST",), self.expire_tokens)]

    def reset_state(self) -> None:
        self._tokens.clear()
        self._orders.clear()
        self.menus.clear()
        self._results.clear()
        self.availability.clear()
        self.store_status.clear()

    def issue_token(self, request: Request) -> Response:
        form = request.form
        given = {name: form.get(name, "") for name in self._credentials}
        # a secret may be "new,old" during a rotation: the provider takes either
        valid = all(any([hmac.compare_digest(given[name].encode(), one.encode()) for one in secret_list(value) or [""]])
                    for name, value in self._credentials.items())
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
            menus, pending = dict(self.menus), self._pending
            availability, status = dict(self.availability), dict(self.store_status)
        return json_response({"count": len(menus), "menus": menus, "pendingResults": pending,
                              "availability": availability, "status": status})

    def note_availability(self, store: str, items: dict[str, Any]) -> None:
        with self.lock:
            self.availability[store] = {**self.availability.get(store, {}), **items}

    def note_status(self, store: str, body: dict) -> None:
        with self.lock:
            self.store_status[store] = body

    def set_callbacks(self, request: Request) -> Response:
        try:
            body = read_json(request)
        except ValueError:
            return json_response({"error": "malformed_json"}, status=400)
        if not isinstance(body, dict) or not isinstance(body.get("url"), str):
            return json_response({"error": "invalid", "details": ["url must be the hub's base URL"]}, status=400)
        with self.lock:
            self._callback_url = body["url"]
        return json_response({"url": body["url"]})

    def script_results(self, request: Request) -> Response:
        try:
            body = read_json(request)
        except ValueError:
            return json_response({"error": "malformed_json"}, status=400)
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            return json_response({"error": "invalid", "details": ["results must be a list of objects"]}, status=400)
        with self.lock:
            self._results = list(results)
        return json_response({"scripted": len(results)})

    def next_result(self, default: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The next scripted result (else `default`) and the hub URL results go to."""
        with self.lock:
            return (self._results.pop(0) if self._results else default), self._callback_url

    def post_later(self, url: str, payload: dict, result: dict[str, Any]) -> None:
        """Post `payload` to the hub as this provider authenticates there, after the result's `delayMs`
        (default 100); `{"drop": true}` never posts (the hub times the sync out)."""
        if result.get("drop"):
            return
        delay = result.get("delayMs", 100)
        with self.lock:
            self._pending += 1

        def post() -> None:
            try:
                self.post_signed(url, payload)
            finally:
                with self.lock:
                    self._pending -= 1

        threading.Timer((delay if isinstance(delay, int) else 100) / 1000, post).start()

    def post_signed(self, url: str, payload: dict) -> None:
        body = json.dumps(payload).encode()
        try:
            requests.post(url, data=body, timeout=10, headers={"Content-Type": "application/json",
                                                                **self.authentication_headers(body)})
        except requests.RequestException:
            pass  # lost, as a provider's would be after its retries: the hub times the sync out

    def authentication_headers(self, body: bytes) -> dict[str, str]:
        """The provider's credentials on a post of `body` to the hub, in the mode `<NAME>_AUTH_MODE` names."""
        mode = os.environ.get(f"{self.name.upper()}_AUTH_MODE") or "hmac"
        # the provider signs with one secret: the first of a rotation's "new,old" (the hub accepts either)
        secret = secret_list(os.environ.get(self.webhook_secret_variable) or self.dev_webhook_secret)[0]
        if mode == "api_key":
            return {f"x-{self.name}-api-key": secret}
        if mode == "jwt":  # the Delivery Hero middleware's: HS512, service "middleware", short-lived
            token = jwt.encode({"service": "middleware", "exp": int(time.time()) + 300}, secret, algorithm="HS512")
            return {"Authorization": f"Bearer {token}"}
        return self.signature_headers(secret, body)

    def signature_headers(self, secret: str, body: bytes) -> dict[str, str]:
        """hmac mode: lowercase hex HMAC-SHA256 of the raw body in `x-<name>-signature`."""
        return {f"x-{self.name}-signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}

    def expire_tokens(self, request: Request) -> Response:
        with self.lock:
            self._tokens.clear()
        return json_response({"expired": True})


class CareemMock(ProviderApiMock):
    name = "careem"
    webhook_secret_variable = "CAREEM_WEBHOOK_SECRET"
    dev_webhook_secret = "dev-insecure-careem-webhook-secret"

    def __init__(self, **kwargs) -> None:
        self._catalog_syncs: dict[str, float] = {}  # branch → its last catalog sync (monotonic)
        super().__init__(**kwargs)

    def reset_state(self) -> None:
        super().reset_state()
        self._catalog_syncs.clear()

    initial_state = "pending"
    transitions = {"pending": {"accepted", "cancelled"}, "accepted": {"ready", "cancelled"}, "ready": {"cancelled"}}

    def routes(self) -> list[MockRoute]:
        return [
            MockRoute("token", "/token", ("POST",), self.issue_token),
            MockRoute("order_state", "/pos/api/v1/orders/<order_id>", ("PUT", "GET"), self.order_state),
            MockRoute("catalogs", "/pos/api/v1/catalogs", ("PUT",), self.push_catalog),
            MockRoute("catalog_items", "/pos/api/v1/catalogs/<catalog_id>/items", ("PATCH",), self.catalog_items),
            MockRoute("visibility", "/pos/api/v1/branches/<branch_id>/visibility/status", ("POST",), self.visibility),
            MockRoute("visibility_expiry", "/pos/api/v1/branches/<branch_id>/visibility/status/expiries", ("POST",),
                      self.visibility),
        ]

    def catalog_items(self, request: Request, catalog_id: str) -> Response:
        """`{"items": [{"id", "status": active | inactive}]}`, at most 40 a call."""
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        items = body.get("items")
        if not isinstance(items, list) or not 0 < len(items) <= 40 or any(
                not isinstance(i, dict) or i.get("status") not in {"active", "inactive"} for i in items):
            return json_response({"error": "bad_request", "details": ["1 to 40 items of {id, status: active|inactive}"]},
                                 status=400)
        self.note_availability(catalog_id, {str(i.get("id")): i["status"] for i in items})
        return json_response({"updated": len(items)})

    def visibility(self, request: Request, branch_id: str) -> Response:
        """`{"status_id": 1 | 2}`; the expiries route adds `till_time` (minutes)."""
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        timed = request.path.endswith("/expiries")
        if body.get("status_id") not in {1, 2} or (timed and type(body.get("till_time")) is not int):
            return json_response({"error": "bad_request", "details": ["status_id 1 or 2 (and till_time minutes)"]},
                                 status=400)
        self.note_status(branch_id, body)
        return Response(status=204)

    def push_catalog(self, request: Request) -> Response:
        """`{"request_id"}` at once, then `CATALOG_REQUEST_STATUS_UPDATED` to the hub (SUCCESS, or the
        scripted status and errors); one sync per branch every CATALOG_SYNC_SECONDS, else 409 as Careem does."""
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        branch, brand = request.headers.get("Branch-Id", ""), request.headers.get("Brand-Id", "")
        problems = careem_catalog_problems(body)
        if not branch or not brand:
            problems.insert(0, "Brand-Id and Branch-Id headers are required")
        if problems:
            return json_response({"error": "bad_request", "details": problems}, status=400)
        with self.lock:
            last = self._catalog_syncs.get(branch)
            if last is not None and time.monotonic() - last < CATALOG_SYNC_SECONDS:
                return json_response({"error": "conflict", "message": "one catalog sync per branch every 2 minutes"},
                                     status=409)
            self._catalog_syncs[branch] = time.monotonic()
            self.menus[f"{brand}/{branch}"] = body
        request_id = secrets.token_hex(8)
        result, hub_url = self.next_result({"status": "SUCCESS"})
        self.post_later(f"{hub_url.rstrip('/')}/api/webhooks/careem", {"event_type": "CATALOG_REQUEST_STATUS_UPDATED",
                        "details": {"request_id": request_id, "status": result.get("status", "SUCCESS"),
                                    "errors": result.get("errors", [])}}, result)
        return json_response({"request_id": request_id})

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
    webhook_secret_variable = "TALABAT_WEBHOOK_SECRET"
    dev_webhook_secret = "dev-insecure-talabat-webhook-secret-long-enough-for-hs512-signing"
    initial_state = "RECEIVED"
    transitions = {"RECEIVED": {"ACCEPTED", "REJECTED"}, "WAITING_FOR_ACKNOWLEDGEMENT": {"ACCEPTED", "REJECTED"},
                   "ACCEPTED": {"PREPARED", "PICKED_UP"}, "PREPARED": {"PICKED_UP"}}
    statuses = {"order_accepted": "ACCEPTED", "order_rejected": "REJECTED", "order_picked_up": "PICKED_UP"}

    def routes(self) -> list[MockRoute]:
        return [
            MockRoute("login", "/v2/login", ("POST",), self.issue_token),
            MockRoute("order_status", "/v2/order/status/<token>", ("POST",), self.order_status),
            MockRoute("prepared", "/v2/orders/<token>/preparation-completed", ("POST",), self.prepared),
            MockRoute("catalog", "/v2/chains/<chain>/catalog", ("PUT",), self.import_catalog),
            MockRoute("item_availability", "/v2/chains/<chain>/vendors/<vendor>/catalog/items/availability", ("PUT",),
                      self.item_availability),
            MockRoute("vendor_availability", "/v2/chains/<chain>/remoteVendors/<vendor>/availability", ("PUT",),
                      self.vendor_availability),
        ]

    def item_availability(self, request: Request, chain: str, vendor: str) -> Response:
        """204 when every id is in the vendor's catalog, else 200 with what failed (a partial success)."""
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        items = body.get("items")
        if not isinstance(items, list) or not items or body.get("type") not in {"ITEM", "TOPPING"} or not isinstance(
                body.get("isAvailable"), bool):
            return json_response({"message": "items (non-empty), type ITEM|TOPPING and isAvailable are required"}, 400)
        with self.lock:
            catalog = (self.menus.get(f"{chain}/{vendor}") or {}).get("items", {})
        known = [i for i in items if i in catalog]
        self.note_availability(f"{chain}/{vendor}", {str(i): body["isAvailable"] for i in known})
        if len(known) == len(items):
            return Response(status=204)
        return json_response({"status": "Success", "details": [{"item": i, "status": "NOT_FOUND"}
                                                               for i in items if i not in catalog]})

    def vendor_availability(self, request: Request, chain: str, vendor: str) -> Response:
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        state = body.get("availabilityState")
        if state not in {"OPEN", "CLOSED", "CLOSED_UNTIL", "CLOSED_TODAY", "INACTIVE"} or (
                state == "CLOSED_UNTIL" and type(body.get("closingMinutes")) is not int):
            return json_response({"message": "availabilityState (and closingMinutes for CLOSED_UNTIL)"}, status=400)
        self.note_status(f"{chain}/{vendor}", body)
        return json_response({"message": "Vendor availability updated."})

    def import_catalog(self, request: Request, chain: str) -> Response:
        """202 `{"status": "submitted", "catalogImportId"}` at once, then the import's callbacks to the
        request's `callbackUrl`: `in_progress`, then `done` (or the scripted result: `done_with_errors` with
        `details[].errors`, `failed`, or none)."""
        body = self.authorized_body(request)
        if isinstance(body, Response):
            return body
        problems = catalog_problems(body)
        if problems:
            return json_response({"message": "; ".join(problems[:20]), "errors": problems}, status=400)
        import_id = secrets.token_hex(8)
        with self.lock:
            for vendor in body["vendors"]:
                self.menus[f"{chain}/{vendor}"] = body["catalog"]
        result, _ = self.next_result({"status": "done"})
        status = result.get("status", "done")
        details = [{"posVendorId": vendor, "status": status, "errors": result.get("errors", [])}
                   for vendor in body["vendors"]]
        self.post_later(body["callbackUrl"], {"catalogImportId": import_id, "status": "in_progress", "message": "",
                                              "details": []}, {"delayMs": 20})
        self.post_later(body["callbackUrl"], {"catalogImportId": import_id, "status": status,
                                              "message": result.get("message", ""), "details": details},
                        {**result, "delayMs": result.get("delayMs", 150)})
        return json_response({"status": "submitted", "catalogImportId": import_id}, status=202)

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


DECIMAL_PRICE = re.compile(r"[0-9]+(\.[0-9]{1,3})?")
CATALOG_TYPES = {"Product", "Topping", "Category", "Menu", "ScheduleEntry", "Image"}


def catalog_problems(body: dict) -> list[str]:
    """What the middleware checks of a catalog import: vendors, the typed items, their references, decimal
    string prices, topping quantities, https images."""
    catalog = body.get("catalog")
    items = catalog.get("items") if isinstance(catalog, dict) else None
    if not isinstance(body.get("vendors"), list) or not body["vendors"] or not isinstance(body.get("callbackUrl"), str):
        return ["vendors must be a non-empty list and callbackUrl a URL"]
    if not isinstance(items, dict) or not all(isinstance(item, dict) for item in items.values()):
        return ["catalog.items must be a map of objects"]
    problems = []
    for key, item in items.items():
        kind = item.get("type")
        if item.get("id") != key or kind not in CATALOG_TYPES:
            problems.append(f"{key}: id must be its key and type one of {sorted(CATALOG_TYPES)}")
            continue
        if kind == "Product" and not DECIMAL_PRICE.fullmatch(str(item.get("price", ""))):
            problems.append(f"{key}: price must be a decimal string")
        if kind == "Image" and not str(item.get("url", "")).startswith("https://"):
            problems.append(f"{key}: the image must be a public https URL")
        if kind == "Topping":
            quantity = item.get("quantity") or {}
            if not 0 <= quantity.get("minimum", 0) <= quantity.get("maximum", 0):
                problems.append(f"{key}: quantity minimum must be at most maximum")
            for ref, option in (item.get("products") or {}).items():
                if items.get(ref, {}).get("type") != "Product" or not DECIMAL_PRICE.fullmatch(str(option.get("price", ""))):
                    problems.append(f"{key}: option {ref} must be a product with a decimal string price")
        for field, wanted in (("toppings", "Topping"), ("products", "Product"), ("images", "Image"),
                              ("schedule", "ScheduleEntry")):
            if kind == "Topping" and field == "products":
                continue
            problems += [f"{key}: {field} names {ref}, which is not a {wanted}" for ref in (item.get(field) or {})
                         if items.get(ref, {}).get("type") != wanted]
    return problems


CATALOG_SYNC_SECONDS = 120
MAX_CATALOG_ITEMS = 8_500


def careem_catalog_problems(body: dict) -> list[str]:
    """What Careem checks of a catalog push: the five parts, references, its group rules, prices, its limits."""
    catalog = body.get("catalog")
    raw = {key: body.get(key) for key in ("categories", "items", "groups", "options")}
    if not isinstance(catalog, dict) or type(catalog.get("currency_id")) is not int or body.get("diff") is not False:
        return ["catalog with an integer currency_id and diff: false are required"]
    if not all(isinstance(value, list) for value in raw.values()):
        return ["categories, items, groups and options must be lists"]
    lists: dict[str, list] = {key: [e for e in value if isinstance(e, dict)] for key, value in raw.items()
                              if isinstance(value, list)}
    if len(lists["items"]) + len(lists["options"]) > MAX_CATALOG_ITEMS:
        return [f"at most {MAX_CATALOG_ITEMS} items and options"]
    ids = {key: {e.get("id") for e in value} for key, value in lists.items()}
    problems = [f"catalog: no category {c}" for c in catalog.get("category_ids", []) if c not in ids["categories"]]
    for category in lists["categories"]:
        problems += [f"category {category.get('id')}: no item {i}" for i in category.get("items", []) if i not in ids["items"]]
    for kind in ("items", "options"):
        for entry in lists[kind]:
            if type(entry.get("price")) is not int or entry["price"] < 0:
                problems.append(f"{kind} {entry.get('id')}: price must be a non-negative integer")
            if not str(entry.get("name", "")).strip():
                problems.append(f"{kind} {entry.get('id')}: name must not be blank")
            problems += [f"{kind} {entry.get('id')}: no group {g}" for g in entry.get("groups", []) if g not in ids["groups"]]
    for group in lists["groups"]:
        options, low, high = group.get("options", []), group.get("min", 0), group.get("max", 0)
        problems += [f"group {group.get('id')}: no option {o}" for o in options if o not in ids["options"]]
        if not options:
            problems.append(f"group {group.get('id')}: needs at least one option")
        if group.get("multi_select") and not (low > 1 and high == low):
            problems.append(f"group {group.get('id')}: a multi-select group needs min > 1 and max = min")
        if not group.get("multi_select") and not (0 <= low <= high <= len(options)):
            problems.append(f"group {group.get('id')}: needs 0 ≤ min ≤ max ≤ the number of options")
    return problems
