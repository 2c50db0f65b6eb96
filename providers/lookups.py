"""Intake's per-request reads in fixed SQL: whether the provider is enabled, and the product ids its
items map to. Through the ORM each query was compiled anew per order: a fifth of intake's CPU per
order (`bench/cost_bench.py`). The intake and mapping tests cover them."""

from collections.abc import Collection

from django.db import connection

PROVIDER_ENABLED = "SELECT enabled FROM providers_provider WHERE name = %s"
PRODUCT_IDS = """
SELECT m.external_item_id, m.product_id
FROM providers_productmapping m JOIN providers_provider p ON p.id = m.provider_id
WHERE p.name = %s AND m.external_item_id {matches}
"""


def provider_enabled(name: str) -> bool | None:
    """True or False as the provider's row says; None when there is no such provider."""
    with connection.cursor() as cursor:
        cursor.execute(PROVIDER_ENABLED, [name])
        row = cursor.fetchone()
    return None if row is None else bool(row[0])


def product_ids(*, provider: str, external_ids: Collection[str]) -> dict[str, str]:
    """External item id → the backend's product id, for those of `external_ids` that are mapped."""
    if not external_ids:
        return {}
    keys = list(external_ids)
    with connection.cursor() as cursor:  # one statement text whatever the number of items
        cursor.execute(PRODUCT_IDS.format(matches="= ANY(%s)"), [provider, keys])
        return dict(cursor.fetchall())
