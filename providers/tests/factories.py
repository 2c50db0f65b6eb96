import factory

from providers.adapters.base import ProviderEvent, internal_order
from providers.models import Branch, Order, ProductMapping, Provider


class ProviderFactory(factory.django.DjangoModelFactory[Provider]):
    class Meta:
        model = Provider
        django_get_or_create = ("name",)

    name = "careem"


class BranchFactory(factory.django.DjangoModelFactory[Branch]):
    class Meta:
        model = Branch

    provider = factory.SubFactory(ProviderFactory)
    external_id = factory.Sequence(lambda n: f"branch-{n}")
    currency = "AED"


class ProductMappingFactory(factory.django.DjangoModelFactory[ProductMapping]):
    class Meta:
        model = ProductMapping

    provider = factory.SubFactory(ProviderFactory)
    external_item_id = factory.Sequence(lambda n: f"item-{n}")
    product_id = factory.Sequence(lambda n: f"sku-{n}")


class OrderFactory(factory.django.DjangoModelFactory[Order]):
    class Meta:
        model = Order

    provider = "careem"
    external_order_id = factory.Sequence(lambda n: f"order-{n}")
    branch_id = "branch-1"
    currency = "AED"
    total_minor = 2500
    data = factory.LazyAttribute(lambda order: {"externalOrderId": order.external_order_id, "status": "NEW"})


def order_created_event(*, external_order_id: str = "order-1", branch_id: str = "branch-1",
                        item_ids: tuple[str, ...] = ("item-1",)) -> ProviderEvent:
    """An order_created event as an adapter produces it: one item of 12.50 AED per id."""
    items = [{"externalId": item_id, "name": f"Item {item_id}", "quantity": 1, "unitPriceMinor": 1250,
              "totalMinor": 1250, "modifiers": []} for item_id in item_ids]
    subtotal = 1250 * len(item_ids)
    totals = {"subtotalMinor": subtotal, "taxMinor": 0, "deliveryFeeMinor": 0, "serviceFeeMinor": 0,
              "discountMinor": 0, "totalMinor": subtotal}
    order = internal_order(provider="careem", external_order_id=external_order_id, branch_id=branch_id, placed_at=None,
                           currency="AED", customer={"name": "Test"}, items=items, totals=totals, payment={}, notes="",
                           warnings=[])
    return ProviderEvent(kind="order_created", event_type="ORDER_CREATED", dedupe_key=f"{external_order_id}:created",
                         external_order_id=external_order_id, branch_id=branch_id, order=order, status="NEW")


def status_event(*, external_order_id: str = "order-1", status: str, provider_status: str = "") -> ProviderEvent:
    return ProviderEvent(kind="status_update", event_type="ORDER_STATUS_UPDATED",
                         dedupe_key=f"{external_order_id}:status:{provider_status or status}",
                         external_order_id=external_order_id, provider_status=provider_status or status.lower(),
                         status=status)
