"""Talabat (Delivery Hero POS middleware): order dispatch and posOrderStatus.

Money is decimal strings in major units ("1.250"), except `deliveryFees[].value` and topping
`quantity` (numbers). `paidPrice` = unitPrice × quantity without toppings; a topping's `price` is
already multiplied by its quantity. Currency: `localInfo.currencySymbol` when it is an ISO code,
else the branch's, else TALABAT_DEFAULT_CURRENCY.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings

from hub import http
from hub.money import to_major_string
from hub.signing import secret_list
from providers.adapters.base import (
    Context,
    Decision,
    ItemChange,
    MenuAnswer,
    NoCall,
    ProviderCall,
    ProviderAdapter,
    ProviderEvent,
    Reader,
    Route,
    answer_field,
    as_text,
    choose_currency,
    internal_order,
    invalid_item,
    list_at,
    object_at,
    parse_time,
    Token,
    login_with,
)

PROVIDER = "talabat"
CALLBACKS = ("orderAcceptedUrl", "orderRejectedUrl", "orderPickedUpUrl", "orderPreparedUrl")
CALLBACK_OF = {"accept": "orderAcceptedUrl", "reject": "orderRejectedUrl", "picked-up": "orderPickedUpUrl",
               "ready": "orderPreparedUrl"}
MIN_ACCEPTANCE_MINUTES = 2  # Delivery Hero refuses an acceptanceTime closer than this
STATUSES = {"ORDER_CANCELLED": "CANCELLED", "ORDER_PICKED_UP": "PICKED_UP"}
# COURIER_ARRIVED_AT_VENDOR and PRODUCT_ORDER_MODIFICATION_* are kept as events only.


def branch_id_of(payload: Any, context: Context) -> str:
    if context.branch_id:
        return context.branch_id
    restaurant = payload.get("platformRestaurant") if isinstance(payload, dict) else None
    return as_text(restaurant.get("id")) if isinstance(restaurant, dict) else ""


def parse_status(payload: Any, context: Context) -> ProviderEvent:
    reader = Reader()
    payload = reader.require_object(payload)
    status = reader.identifier(payload.get("status"), "status", required=True, max_length=64)
    if not _is_uuid(context.remote_order_id):
        reader.error("remoteOrderId", "must be the hub order id (a UUID) answered to the dispatch")
    reader.check()
    occurred = reader.text(payload.get("occurredAt"))
    return ProviderEvent(kind="status_update", event_type="posOrderStatus",
                         dedupe_key=f"{context.remote_order_id}:status:{status}:{occurred}",
                         hub_order_id=context.remote_order_id, branch_id=context.branch_id,
                         provider_status=status, status=STATUSES.get(status, ""), occurred_at=parse_time(occurred))


def parse_dispatch(payload: Any, context: Context) -> ProviderEvent:
    reader = Reader()
    payload = reader.require_object(payload)
    token = reader.identifier(payload.get("token"), "token", required=True)
    code = reader.identifier(payload.get("code"), "code", required=True)
    local = object_at(payload, "localInfo")
    reader.currency = choose_currency(reader, reader.text(local.get("currencySymbol")), context.branch_currency,
                                      context.default_currency)
    products = payload.get("products")
    if not isinstance(products, list) or not products:
        reader.error("products", "must be a non-empty list")
        products = []
    items = [_product(product, f"products[{n}]", reader) for n, product in enumerate(products)]
    price = object_at(payload, "price")
    fees = list_at(price, "deliveryFees")
    discounts = list_at(payload, "discounts")
    totals = {
        "subtotalMinor": sum(item["totalMinor"] + _toppings_total(item["modifiers"]) for item in items),
        "taxMinor": reader.money(price.get("vatTotal"), "price.vatTotal"),
        "deliveryFeeMinor": sum(reader.money(fee.get("value"), f"price.deliveryFees[{n}].value")
                                for n, fee in enumerate(fees) if isinstance(fee, dict)),
        "serviceFeeMinor": 0,
        "discountMinor": sum(reader.money(d.get("amount"), f"discounts[{n}].amount")
                             for n, d in enumerate(discounts) if isinstance(d, dict)),
        "totalMinor": reader.money(price.get("grandTotal"), "price.grandTotal", required=True),
    }
    payment = object_at(payload, "payment")
    reader.check()
    order = internal_order(
        provider=PROVIDER, external_order_id=code, branch_id=branch_id_of(payload, context),
        placed_at=parse_time(payload.get("createdAt")), currency=reader.currency,
        customer=_customer(payload), items=items, totals=totals, tax_inclusive=True,
        payment={"method": reader.text(payment.get("type")) or None, "paid": payment.get("status") == "paid",
                 "collectMinor": reader.money(price.get("collectFromCustomer"), "price.collectFromCustomer")},
        notes=_comment(payload), warnings=[],
    )
    order["expedition"] = _expedition(payload)
    callbacks = object_at(payload, "callbackUrls")
    return ProviderEvent(kind="order_created", event_type="orderDispatch", dedupe_key=f"{token}:created",
                         external_order_id=code, branch_id=order["branchId"], order=order, status="NEW",
                         occurred_at=parse_time(payload.get("createdAt")),
                         deadline_at=parse_time(payload.get("expiryDate")),
                         provider_refs={"token": token, "callbackUrls": {
                             name: url for name in CALLBACKS if (url := reader.text(callbacks.get(name)))}})


def _product(product: Any, where: str, reader: Reader) -> dict:
    if not isinstance(product, dict):
        reader.error(where, "must be an object")
        return invalid_item()
    return {
        "externalId": reader.text(product.get("id")), "productId": None,
        "mappingKeys": [k for k in (reader.text(product.get("remoteCode")), reader.text(product.get("id"))) if k],
        "name": reader.text(product.get("name")),
        "quantity": reader.quantity(product.get("quantity"), f"{where}.quantity"),
        "unitPriceMinor": reader.money(product.get("unitPrice"), f"{where}.unitPrice", required=True),
        "totalMinor": reader.money(product.get("paidPrice"), f"{where}.paidPrice", required=True),
        "notes": reader.text(product.get("comment")) or None,
        "modifiers": _toppings(product.get("selectedToppings"), f"{where}.selectedToppings", reader),
    }


def _toppings(toppings: Any, where: str, reader: Reader) -> list[dict]:
    modifiers = []
    for n, topping in enumerate(toppings if isinstance(toppings, list) else []):
        here = f"{where}[{n}]"
        if not isinstance(topping, dict):
            reader.error(here, "must be an object")
            continue
        modifiers.append({
            "externalId": reader.text(topping.get("id")), "productId": None,
            "mappingKeys": [k for k in (reader.text(topping.get("remoteCode")), reader.text(topping.get("id"))) if k],
            "name": reader.text(topping.get("name")),
            "quantity": reader.quantity(topping.get("quantity", 1), f"{here}.quantity"),
            "totalMinor": reader.money(topping.get("price"), f"{here}.price"),
            "modifiers": _toppings(topping.get("children"), f"{here}.children", reader),
        })
    return modifiers


def _toppings_total(modifiers: list[dict]) -> int:
    return sum(m["totalMinor"] + _toppings_total(m["modifiers"]) for m in modifiers)


def _customer(payload: dict) -> dict:
    customer = object_at(payload, "customer")
    delivery = object_at(payload, "delivery")
    name = " ".join(part for part in (as_text(customer.get("firstName")), as_text(customer.get("lastName"))) if part)
    address = object_at(delivery, "address") or None
    return {"name": name or None, "phone": as_text(customer.get("mobilePhone")) or None, "address": address}


def _expedition(payload: dict) -> str:
    """pickup (the customer collects), vendor (the restaurant delivers) or rider (Talabat's rider)."""
    if payload.get("expeditionType") == "pickup":
        return "pickup"
    delivery = object_at(payload, "delivery")
    return "rider" if delivery.get("riderPickupTime") else "vendor"


def _comment(payload: dict) -> str:
    return as_text(object_at(payload, "comments").get("customerComment"))


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _decision_body(decision: Decision) -> dict[str, Any] | None:
    if decision.action == "accept":
        minutes = max(decision.preparation_minutes, MIN_ACCEPTANCE_MINUTES)
        acceptance = decision.call_time + timedelta(minutes=minutes)
        return {"status": "order_accepted", "acceptanceTime": acceptance.isoformat(timespec="seconds").replace("+00:00", "Z"),
                "remoteOrderId": decision.hub_order_id}
    if decision.action == "reject":
        return {"status": "order_rejected", "reason": decision.reason, "message": decision.message}
    if decision.action == "picked-up":
        return {"status": "order_picked_up"}
    return None  # ready: an empty POST to orderPreparedUrl


WEEK_DAYS = {"mon": "MONDAY", "tue": "TUESDAY", "wed": "WEDNESDAY", "thu": "THURSDAY", "fri": "FRIDAY",
             "sat": "SATURDAY", "sun": "SUNDAY"}
CATALOG_STATES = {"done": "live", "done_with_errors": "partial", "failed": "failed"}  # in_progress: not yet


def _ref(kind: str, entity_id: str) -> dict[str, str]:
    return {"id": entity_id, "type": kind}


def render_catalog(menu: dict[str, Any], vendor_id: str, callback_url: str) -> dict[str, Any]:
    """The provider-neutral menu as Delivery Hero's catalog v2 (providers-menus.md A.1): one map of typed
    items; prices are decimal strings with the currency's decimals ("1.500" KWD); a topping (modifier group)
    carries each option's price inside it. Products keep the POS ids (what orders and availability name);
    the other entities' ids are prefixed by their type so they cannot meet a product's."""
    price = lambda minor: to_major_string(minor, menu["currency"])  # noqa: E731
    items: dict[str, dict[str, Any]] = {}
    for item in menu["items"]:
        product: dict[str, Any] = {
            **_ref("Product", item["id"]), "title": {"default": item["name"]["en"]}, "price": price(item["price"]),
            "active": True, "isPrepackedItem": False, "isExpressItem": False, "excludeDishInformation": False}
        if item["description"]:
            product["description"] = {"default": item["description"].get("en", "")}
        if item["modifierGroupIds"]:
            product["toppings"] = {f"topping-{g}": _ref("Topping", f"topping-{g}") for g in item["modifierGroupIds"]}
        if item["imageUrl"]:
            image_id = f"image-{item['id']}"
            items[image_id] = {**_ref("Image", image_id), "url": item["imageUrl"], "alt": {"default": item["name"]["en"]}}
            product["images"] = {image_id: _ref("Image", image_id)}
        items[item["id"]] = product
    for group in menu["modifierGroups"]:
        group_id = f"topping-{group['id']}"
        items[group_id] = {**_ref("Topping", group_id), "title": {"default": group["name"]["en"]},
                           "quantity": {"minimum": group["min"], "maximum": group["max"]},
                           "products": {o["itemId"]: {**_ref("Product", o["itemId"]), "price": price(o["price"])}
                                        for o in group["options"]}}
    categories = {category["id"]: category for category in menu["categories"]}
    for category in menu["categories"]:
        category_id = f"category-{category['id']}"
        items[category_id] = {**_ref("Category", category_id), "title": {"default": category["name"]["en"]},
                              "products": {i: _ref("Product", i) for i in category["itemIds"]}}
    for entry in menu["menus"]:
        schedule = {}
        for n, period in enumerate(entry["schedules"]):
            schedule_id = f"schedule-{entry['id']}-{n}"
            items[schedule_id] = {**_ref("ScheduleEntry", schedule_id), "startTime": f"{period['start']}:00",
                                  "endTime": f"{period['end']}:00", "weekDays": [WEEK_DAYS[d] for d in period["days"]]}
            schedule[schedule_id] = _ref("ScheduleEntry", schedule_id)
        items[f"menu-{entry['id']}"] = {
            **_ref("Menu", f"menu-{entry['id']}"), "title": {"default": entry["name"]["en"]}, "menuType": "DELIVERY",
            "schedule": schedule, "products": {i: _ref("Product", i) for c in entry["categoryIds"]
                                               for i in categories[c]["itemIds"]}}
    return {"callbackUrl": callback_url, "vendors": [vendor_id], "catalog": {"items": items}}


def parse_catalog_status(payload: Any, context: Context) -> ProviderEvent:
    """The middleware's catalog import callback `{"catalogImportId", "status", "message", "details"}`."""
    reader = Reader()
    payload = reader.require_object(payload)
    import_id = reader.identifier(payload.get("catalogImportId"), "catalogImportId", required=True, max_length=200)
    status = reader.identifier(payload.get("status"), "status", required=True, max_length=64)
    reader.check()
    if status not in CATALOG_STATES:
        return ProviderEvent(kind="ignored", event_type="catalogImport", dedupe_key=f"catalog:{import_id}:{status}")
    errors = [{"item": as_text(error.get("itemId") or error.get("id")) or None,
               "message": as_text(error.get("message") or error.get("code"))}
              for detail in list_at(payload, "details") if isinstance(detail, dict)
              for error in list_at(detail, "errors") if isinstance(error, dict)][:200]
    if status != "done" and not errors:
        errors = [{"item": None, "message": reader.text(payload.get("message")) or f"catalog import {status}"}]
    return ProviderEvent(kind="menu_result", event_type="catalogImport", dedupe_key=f"catalog:{import_id}:{status}",
                         provider_refs={"jobId": import_id, "state": CATALOG_STATES[status], "errors": errors})


class TalabatAdapter(ProviderAdapter):
    name = PROVIDER
    default_currency = "KWD"
    dev_secret = "dev-insecure-talabat-webhook-secret-long-enough-for-hs512-signing"
    demo_branch = ("kw-684213", "Shawarma X - Salmiya", "KWD")
    statuses = STATUSES
    routes = {
        "generic": Route(parse_dispatch),
        "dispatch": Route(parse_dispatch, plugin_dispatch=True),  # POST /api/webhooks/talabat/order/<remoteId>
        "status": Route(parse_status),  # PUT …/remoteId/<remoteId>/remoteOrder/<remoteOrderId>/posOrderStatus
        "catalog": Route(parse_catalog_status),  # POST /api/webhooks/talabat/catalog: the import's callback
    }

    def branch_id_of(self, payload: Any, context: Context) -> str:
        return branch_id_of(payload, context)

    def decision_call(self, decision: Decision) -> ProviderCall | NoCall:
        url = decision.provider_refs.get("callbackUrls", {}).get(CALLBACK_OF[decision.action], "")
        if not url:
            return NoCall("not_applicable", f"the order has no {CALLBACK_OF[decision.action]}")
        try:  # the bearer token may only ever reach the middleware itself, as configured (https stays https)
            url = http.checked_url(url, origin=self.api_origin())
        except http.RefusedURL as refused:
            return NoCall("refused", f"{CALLBACK_OF[decision.action]} {refused}")
        return ProviderCall(method="POST", url=url, body=_decision_body(decision))

    def menu_call(self, menu: dict[str, Any], branch_id: str, provider_ids: dict[str, Any]) -> ProviderCall:
        """The whole catalog for this vendor; the middleware answers 202 and calls back with the result."""
        chain = as_text(provider_ids.get("chainCode")) or settings.TALABAT_CHAIN_CODE
        vendor = as_text(provider_ids.get("posVendorId")) or branch_id
        callback = f"{settings.HUB_PUBLIC_URL.rstrip('/')}/api/webhooks/talabat/catalog"
        return ProviderCall("PUT", f"{settings.TALABAT_MIDDLEWARE_URL.rstrip('/')}/v2/chains/{http.segment(chain)}"
                                   "/catalog", render_catalog(menu, vendor, callback))

    def menu_answer(self, call: ProviderCall, status_code: int, body: bytes) -> MenuAnswer:
        if not 200 <= status_code < 300:
            return super().menu_answer(call, status_code, body)
        return MenuAnswer("sent", job_id=answer_field(body, "catalogImportId"))

    def availability_calls(self, changes: list[ItemChange], branch_id: str,
                           provider_ids: dict[str, Any]) -> tuple[ProviderCall, ...]:
        """One call per kind (ITEM or TOPPING) and direction: the middleware takes a list of ids each."""
        chain = as_text(provider_ids.get("chainCode")) or settings.TALABAT_CHAIN_CODE
        vendor = as_text(provider_ids.get("posVendorId")) or branch_id
        url = (f"{settings.TALABAT_MIDDLEWARE_URL.rstrip('/')}/v2/chains/{http.segment(chain)}/vendors/"
               f"{http.segment(vendor)}/catalog/items/availability")
        calls = []
        for option in (False, True):
            for available in (False, True):
                items = [c.item_id for c in changes if c.option == option and c.available == available]
                if items:
                    calls.append(ProviderCall("PUT", url, {"items": items, "type": "TOPPING" if option else "ITEM",
                                                           "isAvailable": available}))
        return tuple(calls)

    def availability_partial(self, status_code: int, body: bytes) -> str:
        """204 is all applied; 200 is a partial success, its `details` say what failed."""
        if status_code == 204:
            return ""
        return f"Delivery Hero applied part of it (HTTP {status_code}): {body[:300].decode('utf-8', errors='replace')}"

    def status_call(self, status: str, until: datetime | None, branch_id: str,
                    provider_ids: dict[str, Any]) -> ProviderCall:
        chain = as_text(provider_ids.get("chainCode")) or settings.TALABAT_CHAIN_CODE
        vendor = as_text(provider_ids.get("posVendorId")) or branch_id
        body: dict[str, Any] = {"availabilityState": "OPEN" if status == "open" else "CLOSED",
                                "platformKey": as_text(provider_ids.get("platformKey")) or "TB",
                                "platformRestaurantId": as_text(provider_ids.get("platformRestaurantId")) or vendor}
        if status != "open" and until:
            body["availabilityState"] = "CLOSED_UNTIL"
            body["closingMinutes"] = max(1, int((until - datetime.now(UTC)).total_seconds() // 60))
        return ProviderCall("PUT", f"{settings.TALABAT_MIDDLEWARE_URL.rstrip('/')}/v2/chains/{http.segment(chain)}"
                                   f"/remoteVendors/{http.segment(vendor)}/availability", body)

    def api_origin(self) -> str:
        return settings.TALABAT_MIDDLEWARE_URL

    def login(self) -> Token:
        return login_with(f"{settings.TALABAT_MIDDLEWARE_URL.rstrip('/')}/v2/login", {
            "username": settings.TALABAT_MIDDLEWARE_USERNAME, "password": secret_list(settings.TALABAT_MIDDLEWARE_PASSWORD)[0],
            "grant_type": "client_credentials"})
