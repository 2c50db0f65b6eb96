"""Each adapter's menu against its provider's documented examples (providers-menus.md A.1 to A.4): the same
content, written as the hub's provider-neutral menu, renders to the documented values, with no field the
provider does not document. Deliveroo's and Uber's examples are their docs' own (fixtures/menus/documented);
Talabat's and Careem's are the notes' reconstructions (field names from integrators who worked from the spec)."""

import json
from pathlib import Path

from providers.adapters.careem import render_catalog as careem_catalog
from providers.adapters.deliveroo import render_menu as deliveroo_menu
from providers.adapters.talabat import render_catalog as talabat_catalog
from providers.adapters.ubereats import render_menu as uber_menu
from providers.menu_document import menu_read

DOCUMENTED = Path(__file__).resolve().parent / "fixtures" / "menus" / "documented"


def documented(name: str) -> dict:
    return json.loads((DOCUMENTED / name).read_text())


def neutral(items: list[dict], groups: list[dict], categories: list[dict], schedules=None, currency="GBP") -> dict:
    return menu_read({"currency": currency, "items": items, "modifierGroups": groups, "categories": categories,
                      "menus": [{"id": "breakfast-menu", "name": {"en": "Breakfast menu"},
                                 "categoryIds": [c["id"] for c in categories],
                                 "schedules": schedules or [{"days": ["mon"], "start": "00:00", "end": "11:59"}]}]})


def test_uber_renders_its_coffee_and_sugar_example():
    doc = {item["id"]: item for item in documented("ubereats_example_items.json")["items"]}
    menu = neutral(
        items=[{"id": "Coffee", "name": {"en": "Coffee"}, "description": {"en": "Deliciously roasted beans"}, "price": 300,
                "taxRate": 8, "modifierGroupIds": ["Add-milk", "Add-sugar"]},
               {"id": "Sugar", "name": {"en": "Sugar"}, "price": 2, "taxRate": 8},
               {"id": "Milk", "name": {"en": "Milk"}, "price": 0, "taxRate": 8}],
        groups=[{"id": "Add-milk", "name": {"en": "Add milk"}, "min": 0, "max": 1, "options": [{"itemId": "Milk", "price": 0}]},
                {"id": "Add-sugar", "name": {"en": "Add sugar"}, "min": 0, "max": 1, "options": [{"itemId": "Sugar", "price": 0}]}],
        categories=[{"id": "drinks", "name": {"en": "Drinks"}, "itemIds": ["Coffee"]}], currency="USD")

    rendered = {item["id"]: item for item in uber_menu(menu)["items"]}

    coffee, sugar = rendered["Coffee"], rendered["Sugar"]
    for field in ("title", "description", "modifier_group_ids", "tax_info", "quantity_info"):
        assert coffee[field] == doc["Coffee"][field], field
    assert coffee["price_info"]["price"] == doc["Coffee"]["price_info"]["price"]
    assert sugar["price_info"] == doc["Sugar"]["price_info"]  # the option's price inside its group
    documented_item_fields = {"id", "external_data", "title", "description", "image_url", "price_info", "quantity_info",
                              "suspension_info", "modifier_group_ids", "tax_info"}  # A.4's shape
    assert set(coffee) <= documented_item_fields and set(sugar) <= documented_item_fields


def test_deliveroo_renders_its_porridge_example():
    doc = documented("deliveroo_example_porridge.json")
    doc_items = {item["id"]: item for item in doc["menu"]["items"]}
    toppings = ["honey", "peanut_butter", "granola"]
    menu = neutral(
        items=[{"id": "porridge_blueberries", "name": {"en": "Porridge with blueberries"}, "price": 350, "taxRate": "20",
                "description": {"en": "Porridge with blueberries and cinnamon"}, "plu": "porridge_blueberries123",
                "modifierGroupIds": ["extra_toppings"]},
               {"id": "porridge_banana", "name": {"en": "Porridge with banana"}, "price": 350, "taxRate": "20"},
               {"id": "honey", "name": {"en": "Honey"}, "description": {"en": "Honey"}, "price": 0, "taxRate": "20",
                "plu": "honey_123"},
               {"id": "peanut_butter", "name": {"en": "Peanut butter"}, "price": 0, "taxRate": "20"},
               {"id": "granola", "name": {"en": "Granola"}, "price": 0, "taxRate": "20"}],
        groups=[{"id": "extra_toppings", "name": {"en": "Choice of extra toppings 🍯"}, "min": 0, "max": 3,
                 "options": [{"itemId": t, "price": 0} for t in toppings]}],
        categories=[{"id": "porridge", "name": {"en": "Porridge 🥣"}, "description": {"en": "Freshly made porridge"},
                     "itemIds": ["porridge_blueberries", "porridge_banana"]}])

    rendered = deliveroo_menu(menu, "1593", "site-234 menu")
    items = {item["id"]: item for item in rendered["menu"]["items"]}

    assert (rendered["name"], rendered["site_ids"]) == (doc["name"], doc["site_ids"])
    assert rendered["menu"]["categories"] == doc["menu"]["categories"]
    for item_id in ("porridge_blueberries", "honey"):
        for field in ("type", "name", "description", "plu", "tax_rate", "contains_alcohol"):
            if field in items[item_id] or field in doc_items[item_id]:
                assert items[item_id].get(field) == doc_items[item_id].get(field), (item_id, field)
        assert items[item_id]["price_info"]["price"] == doc_items[item_id]["price_info"]["price"]
        assert set(items[item_id]) <= set(doc_items["porridge_blueberries"]) | {"image"}
    assert items["porridge_blueberries"]["modifier_ids"] == doc_items["porridge_blueberries"]["modifier_ids"]
    assert items["porridge_blueberries"]["operational_name"] == doc_items["porridge_blueberries"]["operational_name"]
    [modifier] = rendered["menu"]["modifiers"]
    assert {k: v for k, v in modifier.items()} == {k: v for k, v in doc["menu"]["modifiers"][0].items() if k != "description"}
    [mealtime] = rendered["menu"]["mealtimes"]
    assert mealtime["schedule"] == doc["menu"]["mealtimes"][0]["schedule"]
    assert set(mealtime) <= set(doc["menu"]["mealtimes"][0])


SHAWARMA = dict(
    items=[{"id": "prd-shawarma", "name": {"en": "Chicken Shawarma", "ar": "شاورما"}, "description": {"en": "Wrap"},
            "price": 1250, "imageUrl": "https://cdn.example.com/shawarma.jpg", "modifierGroupIds": ["tg-extras"]},
           {"id": "prd-cheese", "name": {"en": "Extra cheese"}, "price": 250}],
    groups=[{"id": "tg-extras", "name": {"en": "Extras"}, "min": 0, "max": 1,
             "options": [{"itemId": "prd-cheese", "price": 250}]}],
    categories=[{"id": "cat-sandwiches", "name": {"en": "Sandwiches", "ar": "سندويشات"}, "itemIds": ["prd-shawarma"]}],
    schedules=[{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "10:00", "end": "23:00"}],
    currency="KWD")


def test_talabat_renders_the_notes_catalog_with_three_decimal_kwd_strings():
    catalog = talabat_catalog(neutral(**SHAWARMA), "loc_kw_salmiya", "https://hub.example.com/cb")
    items = catalog["catalog"]["items"]

    assert items["prd-shawarma"]["price"] == "1.250" and items["prd-cheese"]["price"] == "0.250"
    assert items["topping-tg-extras"]["products"]["prd-cheese"] == {"id": "prd-cheese", "type": "Product", "price": "0.250"}
    assert items["topping-tg-extras"]["quantity"] == {"minimum": 0, "maximum": 1}
    documented_fields = {  # A.1's minimal catalog and the item types' fields
        "Product": {"id", "type", "title", "description", "price", "active", "isPrepackedItem", "isExpressItem",
                    "excludeDishInformation", "toppings", "images"},
        "Topping": {"id", "type", "title", "quantity", "products"}, "Image": {"id", "type", "url", "alt"},
        "Category": {"id", "type", "title", "products"}, "ScheduleEntry": {"id", "type", "startTime", "endTime", "weekDays"},
        "Menu": {"id", "type", "title", "menuType", "schedule", "products"}}
    assert all(set(item) <= documented_fields[item["type"]] for item in items.values())
    assert set(catalog) == {"callbackUrl", "vendors", "catalog"}


def test_careem_renders_the_notes_flat_arrays_with_jods_and_kwds_currency_ids():
    body = careem_catalog(neutral(**SHAWARMA), "loc_amman_abdoun")

    assert body["catalog"]["currency_id"] == 6 and body["diff"] is False
    assert body["categories"][0]["name_localized"] == {"en": "Sandwiches", "ar": "سندويشات"}
    assert [(o["id"], o["price"]) for o in body["options"]] == [("prd-cheese", 250)]
    documented = {  # A.2's minimal body
        "catalog": {"id", "name", "include_tax", "tax", "currency_id", "category_ids"},
        "categories": {"id", "deleted", "name", "name_localized", "description", "priority", "items"},
        "items": {"id", "deleted", "name", "name_localized", "description", "active", "price", "calorie_counts",
                  "allergic_information", "media", "priority", "groups"},
        "groups": {"id", "deleted", "name", "name_localized", "multi_select", "min", "max", "priority", "options"},
        "options": {"id", "deleted", "name", "name_localized", "active", "price", "priority", "groups"}}
    assert set(body["catalog"]) <= documented["catalog"]
    for part in ("categories", "items", "groups", "options"):
        assert all(set(entry) <= documented[part] for entry in body[part]), part
