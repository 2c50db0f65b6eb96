"""Uber Eats: a thin event names the order; the worker fetches it (providers-menus.md B.3, appendix 4.1).

The webhook `{"event_id", "event_type", "event_time", "meta": {"resource_id", "user_id", "status"},
"resource_href"}` is signed with `X-Uber-Signature`, lowercase hex HMAC-SHA256 of the raw body with the
client secret, and answered 200 with an empty body. Every order event (`orders.notification`, `.cancel`,
`.release`, `.failure`, scheduled notifications) is a fetch of `GET {UBEREATS_API_BASE_URL}/v2/eats/order/
<meta.resource_id>` (`providers.fetches`): `resource_href` names a host the bearer must never reach, and
the fetched order's `current_state` is the truth, whichever event came first. Events are deduplicated on
`event_id`; other event types are audited and change nothing.

The fetched order comes in one of two forms, read by its shape:
* the v2 order (`cart.items`, `payment.charges`, `current_state` CREATED, `eater`): money is `{"amount": <minor
  units>, "currency_code"}` (or `amount_e5`); item prices include tax; `payment.charges` gives the sub-total, tax
  and `total_fee` (what the eater pays);
* the newer Order Fulfillment API's (`{"order": {…}}`, `carts[].items`, `state` OFFERED, `customers[]`,
  `preparation_time.ready_for_pickup_time`): money is `{"amount_e5", "currency_code"}` (× 10^5 of a major unit)
  in `payment.payment_detail`: `order_total` (gross, tax), `item_charges` (its total, and a `price_breakdown` per
  `cart_item_id` that prices each item and option), `fees` and `promotions` (a negative amount: the discount).
Uber cancels an order not accepted 11.5 minutes after its webhook was answered.

Decisions (SPEC §7b): accept by `accept_pos_order`; reject by `deny_pos_order` while the order is new,
by `cancel` once accepted. Readiness and pickup are Uber's courier's own events.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from hub import http
from hub.signing import secret_list
from hub.money import EXPONENTS
from providers.adapters.base import (
    Context,
    Decision,
    ItemChange,
    NoCall,
    ProviderAdapter,
    ProviderCall,
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

PROVIDER = "ubereats"
ORDER_EVENTS = {"orders.notification", "orders.scheduled.notification", "orders.cancel", "orders.release",
                "orders.failure", "order.fulfillment_issues.resolved"}
NEW_STATES = {"CREATED", "OFFERED"}
STATUSES = {"CREATED": "NEW", "OFFERED": "NEW", "ACCEPTED": "ACCEPTED", "DENIED": "CANCELLED",
            "CANCELED": "CANCELLED", "CANCELLED": "CANCELLED", "FINISHED": "DELIVERED"}
DEADLINE = timedelta(minutes=11, seconds=30)
DENY_CODES = {"CLOSED": "STORE_CLOSED", "TOO_BUSY": "CAPACITY", "ITEM_UNAVAILABLE": "ITEM_AVAILABILITY",
              "TECHNICAL_PROBLEM": "POS_OFFLINE", "ADDRESS_INCOMPLETE_MISSTATED": "ADDRESS",
              "OUTSIDE_DELIVERY_AREA": "ADDRESS", "MENU_ACCOUNT_SETTINGS": "PRICING"}
CANCEL_REASONS = {"ITEM_UNAVAILABLE": "OUT_OF_ITEMS", "CLOSED": "KITCHEN_CLOSED", "TOO_BUSY": "RESTAURANT_TOO_BUSY"}


def branch_id_of(payload: Any, context: Context | None = None) -> str:
    """The event's `meta.user_id` (Uber's store id); a fetched order's `store.id`."""
    if not isinstance(payload, dict):
        return ""
    return as_text(object_at(payload, "meta").get("user_id")) or as_text(object_at(payload, "store").get("id"))


def parse_event(payload: Any, context: Context) -> ProviderEvent:
    reader = Reader()
    payload = reader.require_object(payload)
    event_id = reader.identifier(payload.get("event_id"), "event_id", required=True, max_length=200)
    event_type = reader.identifier(payload.get("event_type"), "event_type", required=True, max_length=64)
    meta = object_at(payload, "meta")
    if event_type not in ORDER_EVENTS:
        reader.check()
        return ProviderEvent(kind="ignored", event_type=event_type, dedupe_key=f"event:{event_id}")
    order_id = reader.identifier(meta.get("resource_id"), "meta.resource_id", required=True)
    reader.check()
    return ProviderEvent(kind="fetch", event_type=event_type, dedupe_key=f"event:{event_id}", external_order_id=order_id,
                         branch_id=branch_id_of(payload), provider_status=reader.text(meta.get("status"))[:64],
                         occurred_at=None)


def parse_order(payload: Any, context: Context) -> ProviderEvent:
    """The fetched order: new while CREATED (OFFERED in the newer API), else a status with the order attached."""
    reader = Reader()
    payload = reader.require_object(payload)
    if isinstance(payload.get("order"), dict) and "id" not in payload:  # the Order Fulfillment API's envelope
        payload = payload["order"]
    order_id = reader.identifier(payload.get("id"), "id", required=True)
    state = reader.identifier(payload.get("current_state") or payload.get("state"), "current_state", required=True,
                              max_length=64).upper()
    newer = "carts" in payload or "payment_detail" in object_at(payload, "payment")
    order = (_fulfillment_order if newer else _internal_order)(payload, order_id, context, reader)
    reader.check()
    placed_at = parse_time(payload.get("placed_at") or payload.get("created_time"))
    announced = parse_time(context.notified_at) or placed_at  # the deadline counts from the webhook's answer
    common = {"external_order_id": order_id, "branch_id": order["branchId"], "order": order, "provider_status": state,
              "deadline_at": announced + DEADLINE if announced else None}
    if state in NEW_STATES:
        return ProviderEvent(kind="order_created", event_type="order.fetched", dedupe_key=f"{order_id}:created",
                             status="NEW", occurred_at=placed_at, **common)
    return ProviderEvent(kind="status_update", event_type="order.fetched", dedupe_key=f"{order_id}:state:{state}",
                         status=STATUSES.get(state, ""), occurred_at=None, **common)


def _money(reader: Reader, value: Any, where: str, *, required: bool = False) -> int:
    """`{"amount"}` in minor units, or `{"amount_e5"}`, in the order's currency."""
    if not isinstance(value, dict):
        if required:
            reader.error(where, "is required")
        return 0
    if "amount" not in value and "amount_e5" in value:
        scale = 5 - EXPONENTS.get(reader.currency, 2)
        return minor_units(reader, value.get("amount_e5"), f"{where}.amount_e5", scale=scale, required=required)
    return minor_units(reader, value.get("amount"), f"{where}.amount", required=required)


def _currency_of(payload: dict) -> str:
    charges = object_at(object_at(payload, "payment"), "charges")
    for name in ("total_fee", "total", "sub_total"):
        if code := as_text(object_at(charges, name).get("currency_code")):
            return code
    return ""


def _internal_order(payload: dict, order_id: str, context: Context, reader: Reader) -> dict:
    reader.currency = choose_currency(reader, _currency_of(payload), context.branch_currency, context.default_currency)
    cart = object_at(payload, "cart")
    raw_items = cart.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        reader.error("cart.items", "must be a non-empty list")
        raw_items = []
    items = [_item(item, f"cart.items[{n}]", reader) for n, item in enumerate(raw_items)]
    charges = object_at(object_at(payload, "payment"), "charges")
    total_field = "total_fee" if "total_fee" in charges else "total"
    totals = {
        "subtotalMinor": _money(reader, charges.get("sub_total"), "payment.charges.sub_total", required=True),
        "taxMinor": _money(reader, charges.get("tax"), "payment.charges.tax"),
        "deliveryFeeMinor": _money(reader, charges.get("delivery_fee"), "payment.charges.delivery_fee"),
        "serviceFeeMinor": _money(reader, charges.get("small_order_fee"), "payment.charges.small_order_fee"),
        "discountMinor": 0,
        "totalMinor": _money(reader, charges.get(total_field), f"payment.charges.{total_field}", required=True),
    }
    cash_due = _money(reader, charges.get("cash_amount_due"), "payment.charges.cash_amount_due")
    eater = object_at(payload, "eater")
    name = " ".join(part for part in (as_text(eater.get("first_name")), as_text(eater.get("last_name"))) if part)
    store = object_at(payload, "store")
    order = internal_order(
        provider=PROVIDER, external_order_id=order_id,
        branch_id=reader.identifier(store.get("id"), "store.id"), placed_at=parse_time(payload.get("placed_at")),
        currency=reader.currency,
        customer={"name": name or None, "phone": as_text(eater.get("phone")) or None,
                  "address": object_at(eater, "delivery") or None},
        items=items, totals=totals,
        payment={"method": "cash" if cash_due else "online", "paid": not cash_due, "collectMinor": cash_due},
        notes=reader.text(cart.get("special_instructions")), warnings=[],
    )
    order["displayId"] = reader.text(payload.get("display_id")) or None
    order["fulfillment"] = reader.text(payload.get("type")) or None
    order["estimatedReadyAt"] = reader.text(payload.get("estimated_ready_for_pickup_at")) or None
    return order


def _fulfillment_order(payload: dict, order_id: str, context: Context, reader: Reader) -> dict:
    """The newer Order Fulfillment API's order (the module's docstring says how its money reads)."""
    detail = object_at(object_at(payload, "payment"), "payment_detail")
    money = "payment.payment_detail"
    order_total, item_charges = object_at(detail, "order_total"), object_at(detail, "item_charges")
    currency = as_text(object_at(order_total, "gross").get("currency_code"))
    reader.currency = choose_currency(reader, currency, context.branch_currency, context.default_currency)
    priced = {as_text(line.get("cart_item_id")): line for line in list_at(item_charges, "price_breakdown")
              if isinstance(line, dict)}
    lines = [(f"carts[{c}].items[{n}]", item) for c, cart in enumerate(list_at(payload, "carts"))
             for n, item in enumerate(list_at(cart, "items") if isinstance(cart, dict) else [])]
    if not lines:
        reader.error("carts", "must hold at least one item")
    items = [_fulfillment_item(item, where, priced, reader) for where, item in lines]
    promotions = _money(reader, object_at(object_at(detail, "promotions"), "total").get("gross"),
                        f"{money}.promotions.total.gross")
    totals = {
        "subtotalMinor": _money(reader, object_at(item_charges, "total").get("gross"), f"{money}.item_charges.total.gross",
                                required=True),
        "taxMinor": _money(reader, order_total.get("tax"), f"{money}.order_total.tax"),
        "deliveryFeeMinor": 0,
        "serviceFeeMinor": _money(reader, object_at(object_at(detail, "fees"), "total").get("gross"),
                                  f"{money}.fees.total.gross"),  # delivery, service and small-order fees together
        "discountMinor": -promotions,
        "totalMinor": _money(reader, order_total.get("gross"), f"{money}.order_total.gross", required=True),
    }
    customers = [c for c in list_at(payload, "customers") if isinstance(c, dict)]
    customer = next((c for c in customers if c.get("is_primary_customer") is True), customers[0] if customers else {})
    order = internal_order(
        provider=PROVIDER, external_order_id=order_id,
        branch_id=reader.identifier(object_at(payload, "store").get("id"), "store.id"),
        placed_at=parse_time(payload.get("created_time")), currency=reader.currency,
        customer={"name": as_text(object_at(customer, "name").get("display_name")) or None,
                  "phone": as_text(object_at(object_at(customer, "contact"), "phone").get("number")) or None,
                  "address": None},
        items=items, totals=totals, payment={"method": "online", "paid": True, "collectMinor": 0},
        notes=" / ".join(text for cart in list_at(payload, "carts") if isinstance(cart, dict)
                         if (text := reader.text(cart.get("special_instructions")))),
        warnings=[], tax_inclusive=order_total.get("is_tax_inclusive") is True,
    )
    order["displayId"] = reader.text(payload.get("display_id")) or None
    order["fulfillment"] = reader.text(payload.get("fulfillment_type")) or None
    order["estimatedReadyAt"] = reader.text(object_at(payload, "preparation_time").get("ready_for_pickup_time")) or None
    return order


def _fulfillment_item(item: Any, where: str, priced: dict[str, dict], reader: Reader) -> dict:
    """An item of a cart, priced by its `cart_item_id`'s line in `item_charges.price_breakdown`."""
    if not isinstance(item, dict):
        reader.error(where, "must be an object")
        return invalid_item()
    external_id = reader.identifier(item.get("id"), f"{where}.id", required=True)
    line = priced.get(as_text(item.get("cart_item_id")), {})
    here = f"price_breakdown[cart_item_id={as_text(item.get('cart_item_id'))}]"
    return {
        "externalId": external_id, "productId": None,
        "mappingKeys": [key for key in (external_id, reader.text(item.get("external_data"))) if key],
        "name": reader.text(item.get("title")) or external_id,
        "quantity": reader.quantity(object_at(item, "quantity").get("amount", 1), f"{where}.quantity.amount"),
        "unitPriceMinor": _money(reader, object_at(line, "unit").get("gross"), f"{here}.unit.gross"),
        "totalMinor": _money(reader, object_at(line, "total").get("gross"), f"{here}.total.gross", required=True),
        "notes": reader.text(item.get("special_instructions")) or None,
        "modifiers": _selected(item.get("selected_modifier_groups"), f"{where}.selected_modifier_groups", reader,
                               quantity=lambda option, here: reader.quantity(
                                   object_at(option, "quantity").get("amount", 1), f"{here}.quantity.amount"),
                               total=lambda option, here: _money(reader, object_at(priced.get(
                                   as_text(option.get("cart_item_id")), {}), "total").get("gross"),
                                   f"{here}.price_breakdown.total.gross")),
    }


def _item(item: Any, where: str, reader: Reader) -> dict:
    if not isinstance(item, dict):
        reader.error(where, "must be an object")
        return invalid_item()
    external_id = reader.identifier(item.get("id"), f"{where}.id", required=True)
    price = object_at(item, "price")
    return {
        "externalId": external_id, "productId": None,
        "mappingKeys": [key for key in (external_id, reader.text(item.get("external_data"))) if key],
        "name": reader.text(item.get("title")) or external_id,
        "quantity": reader.quantity(item.get("quantity", 1), f"{where}.quantity"),
        "unitPriceMinor": _money(reader, price.get("unit_price"), f"{where}.price.unit_price"),
        "totalMinor": _money(reader, price.get("total_price"), f"{where}.price.total_price", required=True),
        "notes": reader.text(item.get("special_instructions")) or None,
        "modifiers": _selected(item.get("selected_modifier_groups"), f"{where}.selected_modifier_groups", reader,
                               quantity=lambda option, here: reader.quantity(option.get("quantity", 1), f"{here}.quantity"),
                               total=lambda option, here: _money(reader, object_at(option, "price").get("total_price"),
                                                                 f"{here}.price.total_price")),
    }


def _selected(groups: Any, where: str, reader: Reader, *, quantity: Callable[[dict, str], int],
              total: Callable[[dict, str], int]) -> list[dict]:
    """Selected options of every group, nested to any depth (an option may carry groups of its own); each
    form says how an option's quantity and total read (`quantity(option, where)`, `total(option, where)`)."""
    modifiers = []
    for g, group in enumerate(groups if isinstance(groups, list) else []):
        for o, option in enumerate(list_at(group, "selected_items") if isinstance(group, dict) else []):
            here = f"{where}[{g}].selected_items[{o}]"
            if not isinstance(option, dict):
                reader.error(here, "must be an object")
                continue
            external_id = reader.text(option.get("id"))
            modifiers.append({
                "externalId": external_id, "productId": None,
                "mappingKeys": [key for key in (external_id, reader.text(option.get("external_data"))) if key],
                "name": reader.text(option.get("title")) or external_id,
                "quantity": quantity(option, here), "totalMinor": total(option, here),
                "modifiers": _selected(option.get("selected_modifier_groups"), f"{here}.selected_modifier_groups", reader,
                                       quantity=quantity, total=total),
            })
    return modifiers


DAY_NAMES = {"mon": "monday", "tue": "tuesday", "wed": "wednesday", "thu": "thursday", "fri": "friday",
             "sat": "saturday", "sun": "sunday"}


def _text(names: dict[str, str]) -> dict[str, Any]:
    """Uber's multi-language text: `{"translations": {"en_us": …, "ar": …}}`."""
    return {"translations": {("en_us" if language == "en" else language): text for language, text in names.items()}}


def render_menu(menu: dict[str, Any]) -> dict[str, Any]:
    """The provider-neutral menu in Uber's v2 shape (providers-menus.md A.4): options are items, an option's
    price inside its group is a `MODIFIER_GROUP` price override; prices stay integer minor units."""
    group_prices: dict[str, list[dict[str, Any]]] = {}
    for group in menu["modifierGroups"]:
        for option in group["options"]:
            group_prices.setdefault(option["itemId"], []).append(
                {"context_type": "MODIFIER_GROUP", "context_value": group["id"], "price": option["price"]})
    items = []
    for item in menu["items"]:
        rendered: dict[str, Any] = {
            "id": item["id"], "external_data": item["plu"], "title": _text(item["name"]),
            "price_info": {"price": item["price"], "overrides": group_prices.get(item["id"], [])},
            "quantity_info": {}, "modifier_group_ids": {"ids": item["modifierGroupIds"]},
            "tax_info": {"tax_rate": float(item["taxRate"])}}
        if item["description"]:
            rendered["description"] = _text(item["description"])
        if item["imageUrl"]:
            rendered["image_url"] = item["imageUrl"]
        items.append(rendered)
    return {
        "menus": [{"id": m["id"], "title": _text(m["name"]), "category_ids": m["categoryIds"],
                   "service_availability": [
                       {"day_of_week": DAY_NAMES[day], "time_periods": [{"start_time": s["start"], "end_time": s["end"]}]}
                       for s in m["schedules"] for day in s["days"]]} for m in menu["menus"]],
        "categories": [{"id": c["id"], "title": _text(c["name"]),
                        "entities": [{"id": item_id, "type": "ITEM"} for item_id in c["itemIds"]]}
                       for c in menu["categories"]],
        "items": items,
        "modifier_groups": [{"id": g["id"], "title": _text(g["name"]),
                             "quantity_info": {"quantity": {"min_permitted": g["min"], "max_permitted": g["max"]}},
                             "modifier_options": [{"id": o["itemId"], "type": "ITEM"} for o in g["options"]]}
                            for g in menu["modifierGroups"]],
        "display_options": {"disable_item_instructions": False},
    }


def _orders_url(order_id: str, action: str) -> str:
    return f"{settings.UBEREATS_API_BASE_URL.rstrip('/')}/v1/eats/orders/{http.segment(order_id)}/{action}"


class UberEatsAdapter(ProviderAdapter):
    name = PROVIDER
    default_currency = "AED"
    dev_secret = "dev-insecure-ubereats-client-secret"
    secret_setting = "UBEREATS_CLIENT_SECRET"
    signature_header = "x-uber-signature"
    demo_branch = ("c7f1dc2f-fabe-4997-845c-cad26fdcb894", "Harry's Corner", "USD")
    statuses = STATUSES
    routes = {"generic": Route(parse_event, empty_answer=True), "order": Route(parse_order)}
    fetched_route = "order"

    def branch_id_of(self, payload: Any, context: Context) -> str:
        return branch_id_of(payload, context)

    def fetch_call(self, external_order_id: str) -> ProviderCall:
        return ProviderCall("GET", f"{settings.UBEREATS_API_BASE_URL.rstrip('/')}/v2/eats/order/"
                                   f"{http.segment(external_order_id)}")

    def decision_call(self, decision: Decision) -> ProviderCall | NoCall:
        order_id = decision.external_order_id
        if decision.action == "accept":
            pickup = decision.call_time + timedelta(minutes=decision.preparation_minutes)
            return ProviderCall("POST", _orders_url(order_id, "accept_pos_order"), {
                "reason": "accepted", "external_reference_id": decision.hub_order_id, "pickup_time": int(pickup.timestamp())})
        if decision.action == "reject" and decision.order_status in {"", "NEW"}:
            return ProviderCall("POST", _orders_url(order_id, "deny_pos_order"), {"reason": {
                "explanation": decision.message or decision.reason, "code": DENY_CODES.get(decision.reason, "OTHER")}})
        if decision.action == "reject":
            return ProviderCall("POST", _orders_url(order_id, "cancel"), {
                "reason": CANCEL_REASONS.get(decision.reason, "OTHER"), "details": decision.message or decision.reason})
        return NoCall("not_applicable", "Uber Eats learns it from its courier")

    def menu_call(self, menu: dict[str, Any], branch_id: str, provider_ids: dict[str, Any]) -> ProviderCall:
        """A synchronous full replace of the store's menu: the answer says live or not."""
        store = as_text(provider_ids.get("storeId")) or branch_id
        return ProviderCall("PUT", f"{settings.UBEREATS_API_BASE_URL.rstrip('/')}/v2/eats/stores/"
                                   f"{http.segment(store)}/menus", render_menu(menu))

    def availability_calls(self, changes: list[ItemChange], branch_id: str,
                           provider_ids: dict[str, Any]) -> tuple[ProviderCall, ...]:
        """A sparse update per item: `suspend_until` (unix seconds; 0 = available; no end given: a year, the
        hub restores it when told)."""
        store = as_text(provider_ids.get("storeId")) or branch_id
        base = f"{settings.UBEREATS_API_BASE_URL.rstrip('/')}/v2/eats/stores/{http.segment(store)}/menus/items"
        far = timezone.now() + timedelta(days=365)
        return tuple(ProviderCall("POST", f"{base}/{http.segment(change.item_id)}", {"suspension_info": {"suspension": {
            "suspend_until": 0 if change.available else int((change.until or far).timestamp()),
            "reason": "" if change.available else "Out of stock"}}}) for change in changes)

    def status_call(self, status: str, until: datetime | None, branch_id: str,
                    provider_ids: dict[str, Any]) -> ProviderCall:
        store = as_text(provider_ids.get("storeId")) or branch_id
        body: dict[str, Any] = {"status": "ONLINE"} if status == "open" else {
            "status": "PAUSED", "reason": "Paused by the restaurant" if status == "paused" else "Closed by the restaurant"}
        if until and status != "open":
            body["paused_until"] = until.isoformat()
        return ProviderCall("POST", f"{settings.UBEREATS_API_BASE_URL.rstrip('/')}/v1/eats/store/"
                                    f"{http.segment(store)}/status", body)

    def api_origin(self) -> str:
        return settings.UBEREATS_API_BASE_URL

    def login(self) -> Token:
        """OAuth2 client credentials (the token endpoint allows 100 requests an hour: `providers.tokens` caches)."""
        return login_with(settings.UBEREATS_TOKEN_URL, {
            "grant_type": "client_credentials", "client_id": settings.UBEREATS_CLIENT_ID,
            # during a rotation "new,old": the new logs in, both verify webhooks (docs/RUNBOOK.md)
            "client_secret": secret_list(settings.UBEREATS_CLIENT_SECRET)[0], "scope": "eats.order eats.store.orders.read"})
