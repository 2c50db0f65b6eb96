"""The provider-neutral menu of a location (SPEC §7c; providers-menus.md D): read, checked, normalised.

```
{"currency": "KWD",
 "menus": [{"id", "name": {"en", "ar"}, "schedules": [{"days": ["mon", …], "start": "08:00", "end": "23:30"}],
            "categoryIds": [...]}],
 "categories": [{"id", "name": {…}, "description": {…}, "itemIds": [...]}],
 "items": [{"id", "name": {…}, "description": {…}, "price": <minor units>, "plu", "imageUrl", "taxRate": "5",
            "modifierGroupIds": [...]}],
 "modifierGroups": [{"id", "name": {…}, "min", "max", "options": [{"itemId", "price": <minor units>}]}],
 "overrides": [{"provider", "itemId", "price", "name": {…}, "visible": bool}]}
```

Options are items (an item may be sold alone and offered in groups at another price). Every problem is
collected (`MenuErrors`, answered 422); the normalised document has every optional field present, so
each adapter renders it without checks of its own, and its hash says whether a menu changed.
"""

import hashlib
import json
import re
from collections import Counter
from decimal import Decimal
from typing import Any

from hub.money import EXPONENTS, MAX_MINOR

LANGUAGES = ("en", "ar")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")  # no "/" or ";": the providers refuse them in ids
TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
MAX_ENTITIES = 20_000
MAX_TEXT = 1_000


class MenuErrors(Exception):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(f"{len(errors)} problems")
        self.errors = errors


class _Checker:
    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def error(self, where: str, message: str) -> None:
        if len(self.errors) < 200:
            self.errors.append({"field": where, "message": message})

    def identifier(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not ID.fullmatch(value):
            self.error(where, "must be an id of 1 to 100 letters, digits, '.', '_', ':' or '-'")
            return ""
        return value

    def price(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MINOR:
            self.error(where, f"must be a whole number of minor units from 0 to {MAX_MINOR}")
            return 0
        return value

    def names(self, value: Any, where: str, *, required: bool) -> dict[str, str]:
        if value is None and not required:
            return {}
        if not isinstance(value, dict) or (required and not isinstance(value.get("en"), str)):
            self.error(where, "must be an object of texts by language, with \"en\"" if required else
                       "must be an object of texts by language")
            return {}
        texts = {}
        for language in LANGUAGES:
            text = value.get(language)
            if text is None:
                continue
            if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
                self.error(f"{where}.{language}", f"must be text of 1 to {MAX_TEXT} characters")
            else:
                texts[language] = text
        return texts

    def ids(self, value: Any, where: str) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(where, "must be a list of ids")
            return []
        return [self.identifier(entry, f"{where}[{n}]") for n, entry in enumerate(value)]

    def objects(self, payload: dict, key: str, *, required: bool = False) -> list[dict]:
        value = payload.get(key, [] if not required else None)
        if not isinstance(value, list) or len(value) > MAX_ENTITIES or (required and not value):
            self.error(key, f"must be a {'non-empty ' if required else ''}list of at most {MAX_ENTITIES} objects")
            return []
        kept = []
        for n, entry in enumerate(value):
            if isinstance(entry, dict):
                kept.append({**entry, "_where": f"{key}[{n}]"})
            else:
                self.error(f"{key}[{n}]", "must be an object")
        return kept


def menu_read(payload: Any) -> dict[str, Any]:
    """The normalised document, or MenuErrors with every problem."""
    check = _Checker()
    if not isinstance(payload, dict):
        raise MenuErrors([{"field": "body", "message": "must be a JSON object"}])
    currency = payload.get("currency")
    if not isinstance(currency, str) or currency.upper() not in EXPONENTS:
        check.error("currency", "must be an ISO 4217 code the hub knows")
        currency = "USD"
    items = [_item(check, raw) for raw in check.objects(payload, "items", required=True)]
    groups = [_group(check, raw) for raw in check.objects(payload, "modifierGroups")]
    categories = [_category(check, raw) for raw in check.objects(payload, "categories", required=True)]
    menus = [_menu(check, raw) for raw in check.objects(payload, "menus", required=True)]
    overrides = [_override(check, raw) for raw in check.objects(payload, "overrides")]
    _unique(check, "items", items)
    _unique(check, "modifierGroups", groups)
    _unique(check, "categories", categories)
    _unique(check, "menus", menus)
    _references(check, items, groups, categories, menus, overrides)
    if check.errors:
        raise MenuErrors(check.errors)
    strip = lambda entries: [{k: v for k, v in e.items() if k != "_where"} for e in entries]  # noqa: E731
    return {"currency": currency.upper(), "menus": strip(menus), "categories": strip(categories), "items": strip(items),
            "modifierGroups": strip(groups), "overrides": strip(overrides)}


def menu_hash(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _item(check: _Checker, raw: dict) -> dict:
    where = raw["_where"]
    tax = raw.get("taxRate")
    tax_rate = "0"
    if tax is not None:
        try:
            number = Decimal(str(tax)) if isinstance(tax, int | Decimal | str) and not isinstance(tax, bool) else None
        except ArithmeticError:
            number = None
        if number is None or not number.is_finite() or not 0 <= number <= 100:
            check.error(f"{where}.taxRate", "must be a percentage from 0 to 100")
        else:
            tax_rate = format(number.normalize(), "f") if number else "0"  # "20", never "2E+1"
    image = raw.get("imageUrl")
    if image is not None and (not isinstance(image, str) or not image.startswith("https://") or len(image) > 2000):
        check.error(f"{where}.imageUrl", "must be a public https URL (the providers fetch it)")
        image = None
    plu = raw.get("plu", raw.get("id"))
    return {"_where": where, "id": check.identifier(raw.get("id"), f"{where}.id"),
            "name": check.names(raw.get("name"), f"{where}.name", required=True),
            "description": check.names(raw.get("description"), f"{where}.description", required=False),
            "price": check.price(raw.get("price"), f"{where}.price"),
            "plu": plu if isinstance(plu, str) and ID.fullmatch(plu) else check.identifier(plu, f"{where}.plu"),
            "imageUrl": image, "taxRate": tax_rate,
            "modifierGroupIds": check.ids(raw.get("modifierGroupIds"), f"{where}.modifierGroupIds")}


def _group(check: _Checker, raw: dict) -> dict:
    where = raw["_where"]
    options = []
    raw_options = raw.get("options")
    for n, option in enumerate(raw_options if isinstance(raw_options, list) else []):
        here = f"{where}.options[{n}]"
        if not isinstance(option, dict):
            check.error(here, "must be an object")
            continue
        options.append({"itemId": check.identifier(option.get("itemId"), f"{here}.itemId"),
                        "price": check.price(option.get("price", 0), f"{here}.price")})
    if not options:
        check.error(f"{where}.options", "must be a non-empty list of {\"itemId\", \"price\"}")
    low, high = raw.get("min", 0), raw.get("max", 1)
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (low, high)) or not 0 <= low <= high or high < 1:
        check.error(f"{where}.min", "min and max must be whole numbers with 0 ≤ min ≤ max and max ≥ 1")
        low, high = 0, 1
    elif options and high > len(options):
        check.error(f"{where}.max", f"must be at most the number of options ({len(options)})")
    return {"_where": where, "id": check.identifier(raw.get("id"), f"{where}.id"),
            "name": check.names(raw.get("name"), f"{where}.name", required=True), "min": low, "max": high,
            "options": options}


def _category(check: _Checker, raw: dict) -> dict:
    where = raw["_where"]
    return {"_where": where, "id": check.identifier(raw.get("id"), f"{where}.id"),
            "name": check.names(raw.get("name"), f"{where}.name", required=True),
            "description": check.names(raw.get("description"), f"{where}.description", required=False),
            "itemIds": check.ids(raw.get("itemIds"), f"{where}.itemIds")}


def _menu(check: _Checker, raw: dict) -> dict:
    where = raw["_where"]
    schedules = []
    raw_schedules = raw.get("schedules")
    for n, schedule in enumerate(raw_schedules if isinstance(raw_schedules, list) else [None]):
        here = f"{where}.schedules[{n}]"
        if not isinstance(schedule, dict):
            check.error(here, "must be an object {\"days\", \"start\", \"end\"}")
            continue
        days = schedule.get("days")
        start, end = schedule.get("start"), schedule.get("end")
        if not isinstance(days, list) or not days or any(day not in DAYS for day in days):
            check.error(f"{here}.days", f"must be a non-empty list of {', '.join(DAYS)}")
            days = []
        for field, value in (("start", start), ("end", end)):
            if not (isinstance(value, str) and TIME.fullmatch(value)):
                check.error(f"{here}.{field}", "must be HH:MM")
        if isinstance(start, str) and isinstance(end, str) and TIME.fullmatch(start) and TIME.fullmatch(end) and (
                end == "00:00" or end <= start):
            check.error(f"{here}.end", "must be after start on the same day (split a night across midnight; "
                                       "no 00:00 end: the providers refuse it)")
        schedules.append({"days": [day for day in DAYS if day in days], "start": start, "end": end})
    return {"_where": where, "id": check.identifier(raw.get("id"), f"{where}.id"),
            "name": check.names(raw.get("name"), f"{where}.name", required=True), "schedules": schedules,
            "categoryIds": check.ids(raw.get("categoryIds"), f"{where}.categoryIds")}


def _override(check: _Checker, raw: dict) -> dict:
    where = raw["_where"]
    from providers.adapters import ADAPTERS  # the registry: overrides name a registered provider

    provider = raw.get("provider")
    if not isinstance(provider, str) or provider not in ADAPTERS:
        check.error(f"{where}.provider", f"must be one of {sorted(ADAPTERS)}")
    override: dict[str, Any] = {"_where": where, "provider": provider,
                                "itemId": check.identifier(raw.get("itemId"), f"{where}.itemId")}
    if "price" in raw:
        override["price"] = check.price(raw["price"], f"{where}.price")
    if "name" in raw:
        override["name"] = check.names(raw["name"], f"{where}.name", required=True)
    if "visible" in raw:
        if not isinstance(raw["visible"], bool):
            check.error(f"{where}.visible", "must be true or false")
        override["visible"] = raw["visible"] is True
    return override


def _unique(check: _Checker, kind: str, entries: list[dict]) -> None:
    counts = Counter(entry["id"] for entry in entries if entry["id"])
    for entry in entries:
        if counts[entry["id"]] > 1:
            check.error(f"{entry['_where']}.id", f"{entry['id']!r} is used by more than one of {kind}")


def _references(check: _Checker, items: list[dict], groups: list[dict], categories: list[dict], menus: list[dict],
                overrides: list[dict]) -> None:
    item_ids, group_ids = {i["id"] for i in items}, {g["id"] for g in groups}
    category_ids = {c["id"] for c in categories}
    for entries, key, known, kind in ((menus, "categoryIds", category_ids, "category"),
                                      (categories, "itemIds", item_ids, "item"),
                                      (items, "modifierGroupIds", group_ids, "modifier group")):
        for entry in entries:
            for n, ref in enumerate(entry[key]):
                if ref and ref not in known:
                    check.error(f"{entry['_where']}.{key}[{n}]", f"no {kind} {ref!r}")
    for group in groups:
        for n, option in enumerate(group["options"]):
            if option["itemId"] and option["itemId"] not in item_ids:
                check.error(f"{group['_where']}.options[{n}].itemId", f"no item {option['itemId']!r}")
    for override in overrides:
        if override["itemId"] and override["itemId"] not in item_ids:
            check.error(f"{override['_where']}.itemId", f"no item {override['itemId']!r}")
