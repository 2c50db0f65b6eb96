"""Each of intake's hot statements writes what the ORM writes (`save()`)."""

import pytest

from hub.testing import stored
from providers import statements
from providers.models import InboundWebhook, Order, OrderEvent, ProductMapping, Provider
from providers.services import new_order
from providers.tests.factories import ProductMappingFactory, ProviderFactory, order_created_event
from webhooks.models import OutboxMessage
from webhooks.outbox import outbox_enqueue, outbox_insert
from webhooks.tests.factories import DestinationFactory

pytestmark = pytest.mark.django_db


def audit_row(dedupe_key: str) -> InboundWebhook:
    return InboundWebhook(provider="careem", method="POST", path="/api/webhooks/careem", headers={"X-A": "1"},
                          body='{"a": 1}', body_sha256="0" * 64, body_size=8, outcome=InboundWebhook.Outcome.ACCEPTED,
                          status_code=200, dedupe_key=dedupe_key, errors=[{"field": "x", "message": "y"}])


def test_an_audit_row_is_what_save_writes():
    fast, orm = audit_row("d-1"), audit_row("d-2")
    orm.received_at = fast.received_at

    statements.audit(fast)
    orm.save()

    ignore = ("id", "dedupe_key")
    assert stored(InboundWebhook, fast.pk, ignore=ignore) == stored(InboundWebhook, orm.pk, ignore=ignore)


def test_a_new_order_is_what_saving_its_rows_writes():
    DestinationFactory(name="backend")
    fast_audit, orm_audit = audit_row("d-1"), audit_row("d-2")
    orm_audit.received_at = fast_audit.received_at
    fast = new_order(provider="careem", event=order_created_event(external_order_id="o-1"), webhook_id=fast_audit.id)
    orm = new_order(provider="careem", event=order_created_event(external_order_id="o-2"), webhook_id=orm_audit.id)

    message_id = statements.new_order(audit_row=fast_audit, order=fast.order, event=fast.event,
                                      message=outbox_insert(**fast.message))
    for row in (orm_audit, orm.order, orm.event):
        row.save()
    orm_message = outbox_enqueue(**orm.message)

    assert stored(InboundWebhook, fast_audit.pk, ignore=("id", "dedupe_key")) == stored(
        InboundWebhook, orm_audit.pk, ignore=("id", "dedupe_key"))
    ignore = ("id", "external_order_id", "data", "created_at", "updated_at", "deadline_at", "placed_at")
    assert stored(Order, fast.order.pk, ignore=ignore) == stored(Order, orm.order.pk, ignore=ignore)
    ignore = ("id", "order_id", "webhook_id", "created_at", "occurred_at")
    assert stored(OrderEvent, fast.event.pk, ignore=ignore) == stored(OrderEvent, orm.event.pk, ignore=ignore)
    ignore = ("id", "event_id", "created_at", "next_attempt_at", "ordering_key", "payload", "occurred_at")
    assert stored(OutboxMessage, message_id, ignore=ignore) == stored(OutboxMessage, orm_message.id, ignore=ignore)


def test_the_reads_answer_what_the_orm_answers():
    careem = ProviderFactory(name="careem", enabled=True)
    ProviderFactory(name="talabat", enabled=False)
    ProductMappingFactory(provider=careem, external_item_id="item-1", product_id="sku-1")
    ProductMappingFactory(provider=careem, external_item_id="item-2", product_id="sku-2")

    for name in ("careem", "talabat", "nobody"):
        assert statements.provider_enabled(name) == Provider.objects.filter(name=name).values_list(
            "enabled", flat=True).first()
    wanted = ["item-1", "item-3"]
    assert statements.product_ids(provider="careem", external_ids=wanted) == dict(
        ProductMapping.objects.filter(provider__name="careem", external_item_id__in=wanted)
        .values_list("external_item_id", "product_id"))
    assert statements.product_ids(provider="talabat", external_ids=wanted) == {}
