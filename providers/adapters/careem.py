"""Careem: the POS API v2 envelope `{"event_type", "details"}` and the seed's simple form.

Money is JSON numbers in major units with no currency field (the branch's currency, else
CAREEM_DEFAULT_CURRENCY). Items carry no names, only the integrator's ids. With
`delivery_type: "careem"` Careem's captain delivers and the customer block is blank by design.
"""

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings

from hub import http
from hub.http import USER_AGENT
from hub.signing import secret_list
from providers.adapters.base import (
    Context,
    Decision,
    ItemChange,
    MenuAnswer,
    MenuRefused,
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

PROVIDER = "careem"
STATUSES = {
    "pending": "NEW", "accepted": "ACCEPTED", "slot_upcoming": "ACCEPTED", "slot_started": "PREPARING",
    "ready": "READY", "trip_started": "PICKED_UP", "trip_ended": "DELIVERED", "delivered": "DELIVERED",
    "cancelled": "CANCELLED", "canceled": "CANCELLED",
    # driver_coming / driver_here say where the captain is, not what the kitchen does: kept as events only.
}
# The hub's reject reasons (Delivery Hero's codes) as Careem cancellation reasons; any other → OTHER.
CANCELLATION_REASONS = {
    "TOO_BUSY": "KITCHEN_TOO_BUSY_TO_PREPARE_ORDER", "CLOSED": "OUTLET_CLOSED",
    "ITEM_UNAVAILABLE": "ITEM_TEMPORARILY_UNAVAILABLE", "TECHNICAL_PROBLEM": "PARTNER_POS_OUTAGE",
    "NO_RESPONSE": "PARTNER_ORDER_TIMEOUT",
}
STATES = {"accept": {"state": "accepted"}, "ready": {"state": "ready"}}
# Careem's own currency ids (providers-menus.md A.2, "verbatim").
CURRENCY_IDS = {"AED": 1, "SAR": 2, "EGP": 3, "QAR": 4, "KWD": 6, "JOD": 7, "BHD": 8, "SGD": 9, "OMR": 11, "AUD": 13,
                "IQD": 14}
AVAILABILITY_BATCH = 40  # items per PATCH, Careem's limit
CATALOG_STATES = {"SUCCESS": "live", "COMPLETED": "live", "PARTIAL_SUCCESS": "partial", "FAILED": "failed"}
DISCOUNT_FIELDS = ("merchant_discount_amount", "careem_discount_amount", "merchant_promo_amount",
                   "careem_promo_amount", "free_delivery_discount_value")


def branch_id_of(payload: Any, context: Context | None = None) -> str:
    details = payload.get("details") if isinstance(payload, dict) else None
    branch = details.get("branch") if isinstance(details, dict) else None
    return as_text(branch.get("id")) if isinstance(branch, dict) else ""


def parse(payload: Any, context: Context) -> ProviderEvent:
    reader = Reader()
    payload = reader.require_object(payload)
    if "event_type" in payload:
        return _envelope(payload, context, reader)
    if "order_id" in payload:
        return _simple_form(payload, context, reader)
    reader.fail("event_type", "is required (or order_id for the simple form)")


def _envelope(payload: dict, context: Context, reader: Reader) -> ProviderEvent:
    event_type = reader.text(payload.get("event_type"))
    details = payload.get("details")
    if not isinstance(details, dict):
        reader.fail("details", "must be an object")
    order_id = reader.identifier(details.get("id"), "details.id")
    provider_status = reader.identifier(details.get("status"), "details.status", max_length=64).lower()
    if event_type == "ORDER_CREATED":
        if not order_id:
            reader.error("details.id", "is required")
        order = _order(details, context, reader, order_id)
        reader.check()
        brand_id = reader.identifier(object_at(details, "branch").get("brand_id"), "details.branch.brand_id")
        return ProviderEvent(kind="order_created", event_type=event_type, dedupe_key=f"{order_id}:created",
                             external_order_id=order_id, branch_id=order["branchId"], order=order,
                             provider_status=provider_status, status="NEW", occurred_at=parse_time(details.get("created_at")),
                             provider_refs={"brandId": brand_id})
    if event_type == "ORDER_STATUS_UPDATED":
        if not order_id:
            reader.error("details.id", "is required")
        if not provider_status:
            reader.error("details.status", "is required")
        reader.check()
        return ProviderEvent(kind="status_update", event_type=event_type, dedupe_key=f"{order_id}:status:{provider_status}",
                             external_order_id=order_id, branch_id=branch_id_of(payload), provider_status=provider_status,
                             status=STATUSES.get(provider_status, ""),
                             occurred_at=parse_time(details.get("updated_at") or details.get("created_at")))
    if event_type == "CATALOG_REQUEST_STATUS_UPDATED":
        return _catalog_status(details, reader)
    # Other catalog and item-replacement events are acknowledged and audited; they change no order.
    reference = order_id or reader.text(details.get("catalog_id") or details.get("request_id"))
    return ProviderEvent(kind="ignored", event_type=event_type or "UNKNOWN",
                         dedupe_key=f"{event_type}:{reference}:{provider_status}", external_order_id=order_id)


def _catalog_status(details: dict, reader: Reader) -> ProviderEvent:
    """The result of a catalog push, `{"request_id", "status", "errors"}` (our reading: Careem documents the
    webhook's name, not its body; the fake follows this). Still processing: recorded only."""
    request_id = reader.identifier(details.get("request_id"), "details.request_id", required=True, max_length=200)
    status = reader.text(details.get("status")).upper()
    reader.check()
    state = CATALOG_STATES.get(status)
    if state is None:
        return ProviderEvent(kind="ignored", event_type="CATALOG_REQUEST_STATUS_UPDATED",
                             dedupe_key=f"catalog:{request_id}:{status[:40]}")
    errors = [{"item": as_text(e.get("id")) or None, "message": as_text(e.get("message") or e.get("code"))}
              for e in list_at(details, "errors")[:200] if isinstance(e, dict)]
    if state == "failed" and not errors:
        errors = [{"item": None, "message": f"Careem answered {status}"}]
    return ProviderEvent(kind="menu_result", event_type="CATALOG_REQUEST_STATUS_UPDATED",
                         dedupe_key=f"catalog:{request_id}:{state}",
                         provider_refs={"jobId": request_id, "state": state, "errors": errors})


def _localized(names: dict[str, str]) -> dict[str, str]:
    return {"en": names["en"], "ar": names.get("ar", "")}


def render_catalog(menu: dict[str, Any], branch_id: str) -> dict[str, Any]:
    """The provider-neutral menu as Careem's flat arrays (providers-menus.md A.2): the ids are the hub's,
    `currency_id` Careem's own, prices integer minor units and tax-inclusive (Careem types them "integer" and
    states no unit: our reading, to confirm with Careem), `diff: false` (a full replace). A group Careem's
    rules forbid (a pick-many group needs min = max > 1) refuses the menu for Careem with the group named."""
    problems = [{"item": g["id"], "message": f"Careem takes a pick-many group only with min = max > 1 (this one: "
                                             f"min {g['min']}, max {g['max']}); make it pick-one or exact"}
                for g in menu["modifierGroups"] if g["max"] > 1 and not g["min"] == g["max"] > 1]
    if menu["currency"] not in CURRENCY_IDS:
        problems.append({"item": None, "message": f"Careem has no currency id for {menu['currency']}"})
    if problems:
        raise MenuRefused(problems)
    options = {o["itemId"]: o["price"] for g in menu["modifierGroups"] for o in g["options"]}
    sold = {i for c in menu["categories"] for i in c["itemIds"]}
    by_id = {item["id"]: item for item in menu["items"]}
    rates = {Decimal(item["taxRate"]) for item in menu["items"]}
    return {
        "diff": False,
        "catalog": {"id": branch_id, "name": menu["menus"][0]["name"]["en"], "include_tax": True,
                    "tax": float(max(rates)) if rates else 0, "currency_id": CURRENCY_IDS[menu["currency"]],
                    "category_ids": [c for m in menu["menus"] for c in m["categoryIds"]]},
        "categories": [{"id": c["id"], "deleted": False, "name": c["name"]["en"], "name_localized": _localized(c["name"]),
                        "priority": n, "items": c["itemIds"]} for n, c in enumerate(menu["categories"])],
        "items": [{"id": i["id"], "deleted": False, "name": i["name"]["en"], "name_localized": _localized(i["name"]),
                   "description": i["description"].get("en", ""), "active": True, "price": i["price"],
                   **({"media": i["imageUrl"]} if i["imageUrl"] else {}), "priority": n, "groups": i["modifierGroupIds"]}
                  for n, i in enumerate(by_id[item_id] for item_id in by_id if item_id in sold)],
        "groups": [{"id": g["id"], "deleted": False, "name": g["name"]["en"], "name_localized": _localized(g["name"]),
                    "multi_select": g["max"] > 1, "min": g["min"], "max": g["max"], "priority": n,
                    "options": [o["itemId"] for o in g["options"]]} for n, g in enumerate(menu["modifierGroups"])],
        "options": [{"id": item_id, "deleted": False, "name": by_id[item_id]["name"]["en"],
                     "name_localized": _localized(by_id[item_id]["name"]), "active": True, "price": price,
                     "priority": n, "groups": by_id[item_id]["modifierGroupIds"]}
                    for n, (item_id, price) in enumerate(options.items())],
    }


def _order(details: dict, context: Context, reader: Reader, order_id: str) -> dict:
    branch = object_at(details, "branch")
    reader.currency = choose_currency(reader, context.branch_currency, context.default_currency)
    customer = object_at(details, "customer")
    items = details.get("items")
    if not isinstance(items, list) or not items:
        reader.error("details.items", "must be a non-empty list")
        items = []
    price = object_at(details, "price")
    subtotal = reader.money(price.get("original_total_price"), "details.price.original_total_price", required=True)
    tax_percentage = price.get("tax_percentage") or 0
    parsed_items = [_item(item, f"details.items[{n}]", reader) for n, item in enumerate(items)]
    warnings = []
    if sum(item["totalMinor"] for item in parsed_items) != subtotal:
        warnings.append("items do not add up to original_total_price")
    totals = {
        "subtotalMinor": subtotal,
        "taxMinor": _tax(subtotal, tax_percentage, reader),
        "deliveryFeeMinor": reader.money(price.get("delivery_fee"), "details.price.delivery_fee"),
        "serviceFeeMinor": reader.money(price.get("service_fee"), "details.price.service_fee"),
        "discountMinor": sum(reader.money(price.get(f), f"details.price.{f}") for f in DISCOUNT_FIELDS),
        "totalMinor": reader.money(price.get("total_taxable_price"), "details.price.total_taxable_price", required=True),
    }
    payment_type = reader.text(customer.get("payment_type") or details.get("merchant_pay_type")).lower()
    cash = payment_type == "cash"
    return internal_order(
        provider=PROVIDER, external_order_id=order_id, branch_id=reader.identifier(branch.get("id"), "details.branch.id"),
        placed_at=parse_time(details.get("created_at")), currency=reader.currency,
        customer=_customer(customer, reader),
        items=parsed_items, totals=totals,
        payment={"method": payment_type or None, "paid": not cash,
                 "collectMinor": reader.money(details.get("cash_in"), "details.cash_in") if cash else 0},
        notes=reader.text(details.get("notes")), warnings=warnings,
    )


def _tax(subtotal: int, percentage: Any, reader: Reader) -> int:
    """Careem's formula adds tax_percentage of the original total; rounded half up to a minor unit."""
    if isinstance(percentage, str) and percentage.strip():
        try:
            percentage = Decimal(percentage.strip())
        except ArithmeticError:
            pass
    if isinstance(percentage, bool) or not isinstance(percentage, int | Decimal) or not 0 <= percentage <= 100:
        reader.error("details.price.tax_percentage", "must be a number from 0 to 100")
        return 0
    return int((Decimal(subtotal) * Decimal(percentage) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _customer(customer: dict, reader: Reader) -> dict:
    """Blank for Careem-delivered orders; a phone of 0 means none."""
    phone = reader.text(customer.get("phone_number"))
    return {
        "name": reader.text(customer.get("name")) or None,
        "phone": phone if phone.strip("0") else None,
        "address": object_at(customer, "address") or None,
    }


def _item(item: Any, where: str, reader: Reader) -> dict:
    if not isinstance(item, dict):
        reader.error(where, "must be an object")
        return invalid_item()
    external_id = reader.text(item.get("id"))
    if not external_id:
        reader.error(f"{where}.id", "is required")
    return {
        "externalId": external_id, "productId": None, "name": reader.text(item.get("name")) or external_id,
        "quantity": reader.quantity(item.get("quantity"), f"{where}.quantity"),
        "unitPriceMinor": reader.money(item.get("unit_price"), f"{where}.unit_price", required=True),
        "totalMinor": reader.money(item.get("total_price"), f"{where}.total_price", required=True),
        "notes": reader.text(item.get("notes")) or None,
        "modifiers": _options(item.get("groups"), f"{where}.groups", reader),
    }


def _options(groups: Any, where: str, reader: Reader) -> list[dict]:
    """Option groups nest to any depth: group → options → groups → …"""
    if not isinstance(groups, list):
        return []
    modifiers = []
    for g, group in enumerate(groups):
        options = group.get("options") if isinstance(group, dict) else None
        for o, option in enumerate(options if isinstance(options, list) else []):
            here = f"{where}[{g}].options[{o}]"
            if not isinstance(option, dict):
                reader.error(here, "must be an object")
                continue
            external_id = reader.text(option.get("id"))
            modifiers.append({
                "externalId": external_id, "productId": None, "name": reader.text(option.get("name")) or external_id,
                "quantity": reader.quantity(option.get("quantity", 1), f"{here}.quantity"),
                "totalMinor": reader.money(option.get("total_price"), f"{here}.total_price"),
                "modifiers": _options(option.get("groups"), f"{here}.groups", reader),
            })
    return modifiers


def _simple_form(payload: dict, context: Context, reader: Reader) -> ProviderEvent:
    """`{"order_id", "customer": {"name", "phone"}, "items": [{"name", "quantity", "price"}], "total_amount"}`."""
    order_id = reader.identifier(payload.get("order_id"), "order_id", required=True)
    reader.currency = choose_currency(reader, context.branch_currency, context.default_currency)
    customer = object_at(payload, "customer")
    raw_items = payload.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        reader.error("items", "must be a non-empty list")
        raw_items = []
    items: list[dict[str, Any]] = []
    for n, item in enumerate(raw_items):
        if not isinstance(item, dict):
            reader.error(f"items[{n}]", "must be an object")
            continue
        quantity = reader.quantity(item.get("quantity"), f"items[{n}].quantity")
        unit = reader.money(item.get("price"), f"items[{n}].price", required=True)
        name = reader.text(item.get("name"))
        if not name:
            reader.error(f"items[{n}].name", "is required")
        items.append({"externalId": reader.text(item.get("id")) or name, "productId": None, "name": name,
                      "quantity": quantity, "unitPriceMinor": unit, "totalMinor": unit * quantity, "notes": None,
                      "modifiers": []})
    subtotal = sum(item["totalMinor"] for item in items)
    total = reader.money(payload.get("total_amount"), "total_amount", required=True)
    reader.check()
    order = internal_order(
        provider=PROVIDER, external_order_id=order_id, branch_id="", placed_at=None, currency=reader.currency,
        customer={"name": reader.text(customer.get("name")) or None, "phone": reader.text(customer.get("phone")) or None,
                  "address": None},
        items=items,
        totals={"subtotalMinor": subtotal, "taxMinor": 0, "deliveryFeeMinor": 0, "serviceFeeMinor": 0,
                "discountMinor": 0, "totalMinor": total},
        payment={"method": None, "paid": False, "collectMinor": total}, notes="", warnings=[],
    )
    return ProviderEvent(kind="order_created", event_type="ORDER_CREATED", dedupe_key=f"{order_id}:created",
                         external_order_id=order_id, order=order, status="NEW")


class CareemAdapter(ProviderAdapter):
    name = PROVIDER
    default_currency = "JOD"
    dev_secret = "dev-insecure-careem-webhook-secret"
    demo_branch = ("loc_amman_abdoun", "Shawarma X - Abdoun", "JOD")
    statuses = STATUSES
    routes = {"generic": Route(parse)}

    def branch_id_of(self, payload: Any, context: Context) -> str:
        return branch_id_of(payload, context)

    def deadline_of(self, event: ProviderEvent, received_at: datetime) -> datetime | None:
        return (event.occurred_at or received_at) + timedelta(minutes=settings.CAREEM_ACCEPT_DEADLINE_MINUTES)

    def decision_call(self, decision: Decision) -> ProviderCall | NoCall:
        if decision.action == "reject":
            body = {"state": "cancelled", "cancellation_reason": CANCELLATION_REASONS.get(decision.reason, "OTHER")}
        elif decision.action in STATES:
            body = STATES[decision.action]
        else:  # the captain's pickup is Careem's own event
            return NoCall("not_applicable", "Careem learns of the pickup from its captain")
        return ProviderCall(
            method="PUT", url=f"{settings.CAREEM_API_BASE_URL.rstrip('/')}/orders/{http.segment(decision.external_order_id)}",
            body=body, headers={"Brand-Id": str(decision.provider_refs.get("brandId", "")),
                                "Branch-Id": decision.branch_id, "User-Agent": USER_AGENT})

    menu_min_interval_seconds = 120  # one catalog sync per branch every 2 minutes (Careem answers 409 sooner)

    def menu_call(self, menu: dict[str, Any], branch_id: str, provider_ids: dict[str, Any]) -> ProviderCall:
        """The full catalog; Careem answers `{"request_id"}` at once and its status webhook later."""
        return ProviderCall("PUT", f"{settings.CAREEM_API_BASE_URL.rstrip('/')}/catalogs", render_catalog(menu, branch_id),
                            headers=self._headers(branch_id, provider_ids))

    def menu_answer(self, call: ProviderCall, status_code: int, body: bytes) -> MenuAnswer:
        if not 200 <= status_code < 300:
            return super().menu_answer(call, status_code, body)
        return MenuAnswer("sent", job_id=answer_field(body, "request_id"))

    def _headers(self, branch_id: str, provider_ids: dict[str, Any]) -> dict[str, str]:
        return {"Brand-Id": as_text(provider_ids.get("brandId")) or settings.CAREEM_BRAND_ID, "Branch-Id": branch_id,
                "User-Agent": USER_AGENT}

    def availability_calls(self, changes: list[ItemChange], branch_id: str,
                           provider_ids: dict[str, Any]) -> tuple[ProviderCall, ...]:
        """`active` / `inactive`, at most 40 items a call (Careem's limit); no timer: the hub restores."""
        catalog = as_text(provider_ids.get("catalogId")) or branch_id
        url = f"{settings.CAREEM_API_BASE_URL.rstrip('/')}/catalogs/{http.segment(catalog)}/items"
        items = [{"id": c.item_id, "status": "active" if c.available else "inactive"} for c in changes]
        return tuple(ProviderCall("PATCH", url, {"items": items[n:n + AVAILABILITY_BATCH]},
                                  headers=self._headers(branch_id, provider_ids))
                     for n in range(0, len(items), AVAILABILITY_BATCH))

    def status_call(self, status: str, until: datetime | None, branch_id: str,
                    provider_ids: dict[str, Any]) -> ProviderCall:
        """Visible (1) or not (2) on the SuperApp; a pause with an end uses Careem's own timer."""
        base = f"{settings.CAREEM_API_BASE_URL.rstrip('/')}/branches/{http.segment(branch_id)}/visibility/status"
        headers = self._headers(branch_id, provider_ids)
        if status != "open" and until:
            minutes = max(1, int((until - datetime.now(UTC)).total_seconds() // 60))
            return ProviderCall("POST", f"{base}/expiries", {"status_id": 2, "till_time": minutes}, headers=headers)
        return ProviderCall("POST", base, {"status_id": 1 if status == "open" else 2}, headers=headers)

    def api_origin(self) -> str:
        return settings.CAREEM_API_BASE_URL

    def login(self) -> Token:
        """OAuth2 client credentials."""
        return login_with(settings.CAREEM_TOKEN_URL, {
            "grant_type": "client_credentials", "client_id": settings.CAREEM_CLIENT_ID,
            "client_secret": secret_list(settings.CAREEM_CLIENT_SECRET)[0], "scope": "pos"})
