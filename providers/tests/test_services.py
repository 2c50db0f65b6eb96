"""The order services called directly: creation, product mapping, the lifecycle, the backend's messages."""

import uuid

import pytest
from django.db import transaction

from providers.models import InboundWebhook, Order, OrderEvent
from providers.services import ForeignOrder, UnknownOrder, can_move, order_apply_status, order_create
from providers.tests.factories import OrderFactory, ProductMappingFactory, order_created_event, status_event
from webhooks.models import OutboxMessage
from webhooks.tests.factories import DestinationFactory

pytestmark = pytest.mark.django_db
Status = Order.Status


@pytest.fixture(autouse=True)
def backend():
    return DestinationFactory(name="backend")


def audit_row() -> InboundWebhook:
    return InboundWebhook(provider="careem", method="POST", path="/api/webhooks/careem", headers={},
                          body_sha256="0" * 64, body_size=2, outcome=InboundWebhook.Outcome.ACCEPTED, status_code=200)


def test_an_order_is_stored_with_its_event_its_audit_row_and_one_message_to_the_backend():
    audit = audit_row()

    order = order_create(provider="careem", event=order_created_event(), audit=audit)
    webhook_id = audit.id
    assert InboundWebhook.objects.get().id == webhook_id

    assert (order.status, order.total_minor, order.currency, order.data["id"]) == (Status.NEW, 1250, "AED", str(order.id))
    event = OrderEvent.objects.get(order=order)
    assert (event.status, event.applied, event.webhook_id) == (Status.NEW, True, webhook_id)
    message = OutboxMessage.objects.get()
    assert (message.destination.name, message.event_type, message.path, message.ordering_key) == (
        "backend", "order.created", "/api/v1/orders", f"order:{order.id}")
    assert message.payload == order.data


def test_mapped_items_get_their_product_id_and_unmapped_ones_a_warning():
    ProductMappingFactory(external_item_id="item-1", product_id="sku-burger")

    order = order_create(provider="careem", event=order_created_event(item_ids=("item-1", "item-2")), audit=audit_row())

    assert [item["productId"] for item in order.data["items"]] == ["sku-burger", None]
    assert order.warnings == ["unmapped item 'item-2' (Item item-2) passed through"]


def test_a_status_moves_the_order_forward_once_and_tells_the_backend():
    order = OrderFactory(external_order_id="order-1")

    moved, applied = order_apply_status(provider="careem", event=status_event(status=Status.ACCEPTED),
                                        webhook_id=uuid.uuid4())
    again, applied_again = order_apply_status(provider="careem", event=status_event(status=Status.ACCEPTED),
                                              webhook_id=uuid.uuid4())

    assert (moved.id, applied, again.status, applied_again) == (order.id, True, Status.ACCEPTED, False)
    assert list(OrderEvent.objects.filter(order=order).values_list("applied", flat=True).order_by("id")) == [True, False]
    message = OutboxMessage.objects.get()
    assert (message.event_type, message.payload["status"], message.payload["previousStatus"]) == (
        "order.status_changed", Status.ACCEPTED, Status.NEW)


def test_a_late_older_status_is_kept_as_an_event_but_not_applied():
    order = OrderFactory(external_order_id="order-1", status=Status.READY)

    _, applied = order_apply_status(provider="careem", event=status_event(status=Status.ACCEPTED),
                                    webhook_id=uuid.uuid4())

    order.refresh_from_db()
    assert (applied, order.status, OutboxMessage.objects.count()) == (False, Status.READY, 0)
    assert OrderEvent.objects.get(order=order).previous_status == Status.READY


def test_an_unknown_order_and_another_branchs_order_are_refused():
    OrderFactory(external_order_id="order-1", branch_id="branch-1")

    # Each in its own transaction, as intake calls them (savepoint=False: a refusal rolls back the caller's).
    with pytest.raises(UnknownOrder), transaction.atomic():
        order_apply_status(provider="careem", event=status_event(external_order_id="nope", status=Status.ACCEPTED),
                           webhook_id=uuid.uuid4())
    with pytest.raises(ForeignOrder), transaction.atomic():
        order_apply_status(provider="careem", event=status_event(status=Status.ACCEPTED), webhook_id=uuid.uuid4(),
                           acting_branch="branch-2")
    assert OrderEvent.objects.count() == 0


@pytest.mark.parametrize(("current", "new", "allowed"), [
    (Status.NEW, Status.ACCEPTED, True),
    (Status.ACCEPTED, Status.NEW, False),
    (Status.READY, Status.CANCELLED, True),
    (Status.CANCELLED, Status.ACCEPTED, False),
    (Status.DELIVERED, Status.CANCELLED, False),
    (Status.NEW, "", False),
])
def test_the_lifecycle_only_moves_forward_or_to_cancelled(current, new, allowed):
    assert can_move(current, new) is allowed
