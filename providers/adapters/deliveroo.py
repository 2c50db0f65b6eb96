"""Deliveroo: the full order in every webhook, `{"event": "order.new" | "order.status_update", "body":
{"order": {…}}}` (providers-menus.md B.1, B.2).

Signed with `X-Deliveroo-Hmac-Sha256`: lowercase hex HMAC-SHA256 of the `X-Deliveroo-Sequence-Guid`, a
space and the raw body. Money is integer minor units, `{"fractional", "currency_code"}`. The order's
`status_log` is the truth about its state: events come twice and out of order, so an event's status is
the latest entry of its log, and an update for an order the hub has not seen creates it from the copy it
carries. Items map by `pos_item_id` (the menu's PLU; `null` when none was set). ASAP orders are rejected by
Deliveroo if not accepted within 10 minutes of placement, 7 in Kuwait and the UAE (the order id's market
prefix: `kw:`, `ae:`); scheduled orders have no such deadline.

Decisions (SPEC §7b; the reading of the docs is in docs/INTEGRATION.md): accept and reject are a `PATCH` of
the order; an acceptance also reports the order as synced to the in-store system (`sync_status`); ready is
the `prep_stage` call with `ready_for_collection`. The rider's pickup is Deliveroo's own event.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from django.conf import settings

from hub import http
from hub.signing import secret_list

from providers.adapters.base import (
    Context,
    Decision,
    ItemChange,
    NoCall,
    ProviderAdapter,
    ProviderCall,
    MenuAnswer,
    ProviderEvent,
    Reader,
    Route,
    Token,
    as_text,
    choose_currency,
    internal_order,
    invalid_item,
    list_at,
    login_with,
    minor_units,
    object_at,
    parse_time,
)

PROVIDER = "deliveroo"
STATUSES = {"placed": "NEW", "accepted": "ACCEPTED", "confirmed": "PREPARING", "rejected": "CANCELLED",
            "canceled": "CANCELLED", "cancelled": "CANCELLED"}  # "pending" (before placement) is kept as an event
SHORT_DEADLINE_MARKETS = {"kw", "ae"}  # Kuwait and the UAE: 7 minutes, elsewhere 10
REJECT_REASONS = {"CLOSED": "closing_early", "TOO_BUSY": "busy", "ITEM_UNAVAILABLE": "ingredient_unavailable"}


def _order_of(payload: Any) -> dict:
    return object_at(object_at(payload, "body"), "order") if isinstance(payload, dict) else {}


def branch_id_of(payload: Any, context: Context | None = None) -> str:
    return as_text(_order_of(payload).get("location_id"))


def _latest(log: list, reader: Reader) -> tuple[str, str]:
    """The status and time of the newest `status_log` entry (the later entry when two share a time)."""
    entries = [(parse_time(entry.get("at")), n, as_text(entry.get("status")).lower(), as_text(entry.get("at")))
               for n, entry in enumerate(log) if isinstance(entry, dict) and as_text(entry.get("status"))]
    if not entries:
        reader.error("body.order.status_log", "must hold at least one entry with a status")
        return "", ""
    _, _, status, at = max(entries, key=lambda entry: (entry[0] or datetime.min.replace(tzinfo=UTC), entry[1]))
    return status[:64], at


def _placed_at(order: dict) -> datetime | None:
    for entry in list_at(order, "status_log"):
        if isinstance(entry, dict) and as_text(entry.get("status")).lower() == "placed":
            return parse_time(entry.get("at"))
    return None


def parse(payload: Any, context: Context) -> ProviderEvent:
    reader = Reader()
    payload = reader.require_object(payload)
    event_type = reader.identifier(payload.get("event"), "event", required=True, max_length=64)
    body = payload.get("body")
    if event_type == "menu.upload_result":
        return _menu_result(object_at(payload, "body"), reader, context)
    if event_type not in {"order.new", "order.status_update"}:
        reader.check()
        return ProviderEvent(kind="ignored", event_type=event_type, dedupe_key=f"{event_type}:{as_text(_order_of(payload).get('id'))}")
    order = body.get("order") if isinstance(body, dict) else None
    if not isinstance(order, dict):
        reader.fail("body.order", "must be an object")
    order_id = reader.identifier(order.get("id"), "body.order.id", required=True)
    status, at = _latest(list_at(order, "status_log"), reader)
    internal = _internal_order(order, order_id, context, reader)
    reader.check()
    lifecycle = STATUSES.get(status, "")
    placed_at = _placed_at(order)
    common = {"external_order_id": order_id, "branch_id": internal["branchId"], "order": internal,
              "provider_status": status, "deadline_at": _deadline(order, order_id, placed_at),
              "provider_refs": {"brandId": reader.text(order.get("brand_id"))}}
    if event_type == "order.new" and lifecycle in {"", "NEW"}:
        return ProviderEvent(kind="order_created", event_type=event_type, dedupe_key=f"{order_id}:created",
                             status="NEW", occurred_at=placed_at or parse_time(at), **common)
    return ProviderEvent(kind="status_update", event_type=event_type, dedupe_key=f"{order_id}:status:{status}:{at}",
                         status=lifecycle, occurred_at=parse_time(at), **common)


def _menu_result(result: dict, reader: Reader, context: Context) -> ProviderEvent:
    """`menu.upload_result`: `http_status` 200 live, 400 the menu refused (its `errors`), 500 Deliveroo failed."""
    brand = reader.identifier(result.get("brand_id"), "body.brand_id", required=True)
    menu_id = reader.identifier(result.get("menu_id"), "body.menu_id", required=True)
    status = as_text(result.get("http_status"))
    reader.check()
    errors = [{"item": as_text(e.get("item_id") or e.get("id")) or None,
               "message": as_text(e.get("message") or e.get("error")) or as_text(e.get("code"))}
              if isinstance(e, dict) else {"item": None, "message": as_text(e)}
              for e in list_at(result, "errors")[:200]]
    state = "live" if status == "200" and not errors else "partial" if status == "200" else "failed"
    if state == "failed" and not errors:
        errors = [{"item": None, "message": f"Deliveroo answered http_status {status or 'nothing'}"}]
    return ProviderEvent(kind="menu_result", event_type="menu.upload_result",
                         dedupe_key=f"menu-result:{context.delivery_id or brand + '/' + menu_id}",
                         provider_refs={"jobId": f"{brand}/{menu_id}", "state": state, "errors": errors})


def _deadline(order: dict, order_id: str, placed_at: datetime | None) -> datetime | None:
    if order.get("asap") is not True or placed_at is None:
        return None
    market = order_id.partition(":")[0].lower()
    return placed_at + timedelta(minutes=7 if market in SHORT_DEADLINE_MARKETS else 10)


def _money(reader: Reader, value: Any, where: str, *, required: bool = False) -> int:
    """`{"fractional", "currency_code"}` in the order's currency; another currency is recorded as a warning
    by `_foreign_currencies`, never converted."""
    if not isinstance(value, dict):
        if required:
            reader.error(where, "is required")
        return 0
    return minor_units(reader, value.get("fractional"), f"{where}.fractional", required=required)


def _internal_order(order: dict, order_id: str, context: Context, reader: Reader) -> dict:
    reader.currency = choose_currency(reader, reader.text(object_at(order, "total_price").get("currency_code")),
                                      context.branch_currency, context.default_currency)
    raw_items = order.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        reader.error("body.order.items", "must be a non-empty list")
        raw_items = []
    items = [_item(item, f"body.order.items[{n}]", reader) for n, item in enumerate(raw_items)]
    delivery = object_at(order, "delivery")
    subtotal = _money(reader, order.get("subtotal"), "body.order.subtotal", required=True)
    totals = {
        "subtotalMinor": subtotal, "taxMinor": 0,  # prices include tax
        "deliveryFeeMinor": _money(reader, delivery.get("delivery_fee"), "body.order.delivery.delivery_fee"),
        "serviceFeeMinor": (_money(reader, order.get("bag_fee"), "body.order.bag_fee")
                            + _money(reader, order.get("surcharge"), "body.order.surcharge")),
        "discountMinor": _money(reader, order.get("offer_discount"), "body.order.offer_discount"),
        "totalMinor": _money(reader, order.get("total_price"), "body.order.total_price", required=True),
    }
    warnings = _foreign_currencies(order, reader.currency)
    if items and sum(item["totalMinor"] for item in items) != subtotal:
        warnings.append("items do not add up to the subtotal")
    customer = object_at(order, "customer")
    cash_due = _money(reader, order.get("cash_due"), "body.order.cash_due")
    notes = [reader.text(order.get("order_notes")), reader.text(order.get("cutlery_notes"))]
    internal = internal_order(
        provider=PROVIDER, external_order_id=order_id,
        branch_id=reader.identifier(order.get("location_id"), "body.order.location_id"),
        placed_at=_placed_at(order), currency=reader.currency,
        customer={"name": reader.text(customer.get("first_name")) or None,
                  "phone": reader.text(customer.get("contact_number")) or None,
                  "address": object_at(delivery, "address") or None},
        items=items, totals=totals, tax_inclusive=True,
        payment={"method": "cash" if cash_due else "online", "paid": not cash_due, "collectMinor": cash_due},
        notes=" / ".join(note for note in notes if note), warnings=warnings,
    )
    internal["displayId"] = reader.text(order.get("display_id")) or None
    internal["fulfillment"] = reader.text(order.get("fulfillment_type")) or None
    internal["prepareFor"] = reader.text(order.get("prepare_for")) or None
    return internal


def _foreign_currencies(order: dict, currency: str) -> list[str]:
    """Money objects in another currency than the order's (Deliveroo's own example mixes GBP and EUR)."""
    found: set[str] = set()

    def walk(value: Any, depth: int = 0) -> None:
        if depth > 20:
            return
        if isinstance(value, dict):
            code = value.get("currency_code")
            if isinstance(code, str) and "fractional" in value and code.upper() != currency:
                found.add(code.upper()[:8])
            for child in value.values():
                walk(child, depth + 1)
        elif isinstance(value, list):
            for child in value:
                walk(child, depth + 1)

    walk(order)
    return [f"amounts in {code} besides the order's {currency} were not added up" for code in sorted(found)]


def _item(item: Any, where: str, reader: Reader) -> dict:
    """An item or a modifier: the same shape, modifiers nested to any depth."""
    if not isinstance(item, dict):
        reader.error(where, "must be an object")
        return invalid_item()
    modifiers = [_item(modifier, f"{where}.modifiers[{n}]", reader) for n, modifier in enumerate(list_at(item, "modifiers"))]
    return {
        "externalId": reader.text(item.get("pos_item_id")), "productId": None,
        "name": reader.text(item.get("name")) or reader.text(item.get("operational_name")),
        "quantity": reader.quantity(item.get("quantity", 1), f"{where}.quantity"),
        "unitPriceMinor": _money(reader, item.get("unit_price"), f"{where}.unit_price"),
        "totalMinor": _money(reader, item.get("total_price"), f"{where}.total_price", required=True),
        "notes": None,
        "modifiers": [_as_modifier(modifier) for modifier in modifiers],
    }


def _as_modifier(item: dict) -> dict:
    """SPEC §7's modifier: an item without unit price and notes."""
    return {key: value for key, value in item.items() if key not in {"unitPriceMinor", "notes"}}


DAY_NUMBERS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def render_menu(menu: dict[str, Any], site_id: str, name: str) -> dict[str, Any]:
    """The provider-neutral menu in Deliveroo's v1 shape (providers-menus.md A.3): options are items of type
    CHOICE (an item sold alone too stays an ITEM), groups are `modifiers`, menus are `mealtimes`; an option's
    price inside a group is the price of its item there (Deliveroo has no per-group price but overrides of
    type ITEM for bundles), so a group price different from the item's is rendered on the CHOICE item."""
    in_groups = {option["itemId"]: option["price"] for group in menu["modifierGroups"] for option in group["options"]}
    in_categories = {item_id for category in menu["categories"] for item_id in category["itemIds"]}
    items = []
    for item in menu["items"]:
        choice = item["id"] in in_groups and item["id"] not in in_categories
        rendered: dict[str, Any] = {
            "id": item["id"], "type": "CHOICE" if choice else "ITEM", "name": item["name"],
            "description": item["description"], "operational_name": item["name"]["en"], "plu": item["plu"],
            "price_info": {"price": in_groups[item["id"]] if choice else item["price"]},
            "tax_rate": item["taxRate"], "modifier_ids": item["modifierGroupIds"], "contains_alcohol": False}
        if item["imageUrl"]:
            rendered["image"] = {"url": item["imageUrl"]}
        items.append(rendered)
    return {
        "name": name, "site_ids": [site_id],
        "menu": {
            "categories": [{"id": c["id"], "name": c["name"], "description": c["description"], "item_ids": c["itemIds"]}
                           for c in menu["categories"]],
            "items": items,
            "modifiers": [{"id": g["id"], "name": g["name"], "item_ids": [o["itemId"] for o in g["options"]],
                           "min_selection": g["min"], "max_selection": g["max"], "repeatable": False}
                          for g in menu["modifierGroups"]],
            "mealtimes": [{"id": m["id"], "name": m["name"], "category_ids": m["categoryIds"], "schedule": [
                {"day_of_week": DAY_NUMBERS[day], "time_periods": [{"start": s["start"], "end": s["end"]}]}
                for s in m["schedules"] for day in s["days"]]} for m in menu["menus"]],
        },
    }


def _order_url(order_id: str, *tail: str) -> str:
    return "/".join([f"{settings.DELIVEROO_API_BASE_URL.rstrip('/')}/order/v1/orders/{http.segment(order_id, safe=':')}", *tail])


class DeliverooAdapter(ProviderAdapter):
    name = PROVIDER
    default_currency = "AED"
    dev_secret = "dev-insecure-deliveroo-webhook-secret"
    signature_header = "x-deliveroo-hmac-sha256"
    delivery_id_header = "x-deliveroo-sequence-guid"
    demo_branch = ("kw-salmiya-07", "Shawarma X - Salmiya (Deliveroo)", "KWD")
    statuses = STATUSES
    routes = {"generic": Route(parse)}

    def branch_id_of(self, payload: Any, context: Context) -> str:
        return branch_id_of(payload, context)

    def signed_message(self, headers: Any, body: bytes) -> bytes:
        return headers.get(self.delivery_id_header, "").encode() + b" " + body

    def signing_headers(self) -> dict[str, str]:
        return {"x-deliveroo-sequence-guid": str(uuid.uuid4())}

    def decision_call(self, decision: Decision) -> ProviderCall | tuple[ProviderCall, ...] | NoCall:
        occurred_at = decision.call_time.isoformat(timespec="seconds").replace("+00:00", "Z")
        order_id = decision.external_order_id
        if decision.action == "accept":
            return (ProviderCall("PATCH", _order_url(order_id), {"status": "accepted"}),
                    ProviderCall("POST", _order_url(order_id, "sync_status"),
                                 {"status": "succeeded", "occurred_at": occurred_at}))
        if decision.action == "reject":
            return ProviderCall("PATCH", _order_url(order_id), {
                "status": "rejected", "reject_reason": REJECT_REASONS.get(decision.reason, "other"),
                "notes": decision.message or decision.reason})
        if decision.action == "ready":
            return ProviderCall("POST", _order_url(order_id, "prep_stage"),
                                {"stage": "ready_for_collection", "occurred_at": occurred_at})
        return NoCall("not_applicable", "Deliveroo learns of the pickup from its rider")

    menu_min_interval_seconds = 60  # one menu upload per minute per site

    def menu_call(self, menu: dict[str, Any], branch_id: str, provider_ids: dict[str, Any]) -> ProviderCall:
        """Creates or updates and publishes; the result comes later as `menu.upload_result`."""
        brand = as_text(provider_ids.get("brandId")) or settings.DELIVEROO_BRAND_ID
        menu_id = as_text(provider_ids.get("menuId")) or f"hub-{branch_id}"
        return ProviderCall("PUT", f"{settings.DELIVEROO_API_BASE_URL.rstrip('/')}/menu/v1/brands/"
                                   f"{http.segment(brand)}/menus/{http.segment(menu_id)}",
                            render_menu(menu, branch_id, f"{branch_id} menu"))

    def menu_answer(self, call: ProviderCall, status_code: int, body: bytes) -> MenuAnswer:
        if not 200 <= status_code < 300:
            return super().menu_answer(call, status_code, body)
        if b"MATCH_EXISTING_MENU" in body:  # an identical menu: no result webhook follows
            return MenuAnswer("live")
        brand, menu_id = (unquote(part) for part in call.url.rsplit("/brands/", 1)[1].split("/menus/"))
        return MenuAnswer("sent", job_id=f"{brand}/{menu_id}")  # what menu.upload_result names

    availability_needs_live_menu = True  # changes sent before the upload result may be lost (Deliveroo's docs)

    def availability_calls(self, changes: list[ItemChange], branch_id: str,
                           provider_ids: dict[str, Any]) -> tuple[ProviderCall, ...]:
        """One POST of the items that change (never the PUT replace-all, which wipes the tablet's). An
        unavailable item is `hidden`, not `unavailable`: the morning stock reset would bring that back before
        its time; the hub makes it available itself."""
        brand = as_text(provider_ids.get("brandId")) or settings.DELIVEROO_BRAND_ID
        menu_id = as_text(provider_ids.get("menuId")) or f"hub-{branch_id}"
        return (ProviderCall("POST", f"{settings.DELIVEROO_API_BASE_URL.rstrip('/')}/menu/v1/brands/{http.segment(brand)}"
                                     f"/menus/{http.segment(menu_id)}/item_unavailabilities/{http.segment(branch_id)}",
                             {"item_unavailabilities": [{"item_id": c.item_id, "status": "available" if c.available
                                                         else "hidden"} for c in changes]}),)

    def status_call(self, status: str, until: datetime | None, branch_id: str,
                    provider_ids: dict[str, Any]) -> ProviderCall:
        """OPEN or CLOSED: Deliveroo has no timer, the hub reopens at `until`."""
        brand = as_text(provider_ids.get("brandId")) or settings.DELIVEROO_BRAND_ID
        return ProviderCall("PUT", f"{settings.DELIVEROO_API_BASE_URL.rstrip('/')}/site/v1/brands/{http.segment(brand)}"
                                   f"/sites/{http.segment(branch_id)}/status",
                            {"status": "OPEN" if status == "open" else "CLOSED"})

    def api_origin(self) -> str:
        return settings.DELIVEROO_API_BASE_URL

    def login(self) -> Token:
        """OAuth2 client credentials."""
        return login_with(settings.DELIVEROO_TOKEN_URL, {
            "grant_type": "client_credentials", "client_id": settings.DELIVEROO_CLIENT_ID,
            "client_secret": secret_list(settings.DELIVEROO_CLIENT_SECRET)[0]})
