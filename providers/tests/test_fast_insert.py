"""`hub.db.insert` writes the row `save()` would: a generated id, a Python-side UUID, auto_now, JSON."""

import uuid

import pytest
from django.forms.models import model_to_dict

from hub.db import insert
from providers.models import Order, OrderEvent
from providers.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def stored(instance) -> dict:
    return model_to_dict(type(instance).objects.get(pk=instance.pk))


def test_a_row_with_a_python_side_uuid_json_and_auto_now_is_the_row_save_writes():
    built = OrderFactory.build(warnings=["unmapped item 'x'"], data={"items": [{"name": "Ünïcode", "n": 1.5}]})
    saved = OrderFactory.build(warnings=built.warnings, data=built.data)
    chosen_id = built.id

    insert(built)
    saved.save()

    assert built.id == chosen_id and not built._state.adding
    assert built.updated_at is not None  # auto_now ran
    ignore = {"id", "external_order_id", "placed_at", "created_at", "updated_at", "deadline_at"}
    assert {k: v for k, v in stored(built).items() if k not in ignore} == {
        k: v for k, v in stored(saved).items() if k not in ignore}
    assert Order.objects.get(pk=chosen_id).data == {"items": [{"name": "Ünïcode", "n": 1.5}]}


def test_a_generated_id_is_set_on_the_instance():
    order = OrderFactory()
    event = OrderEvent(order=order, event_type="order_created", status="NEW", applied=True, webhook_id=uuid.uuid4())

    insert(event)

    assert isinstance(event.id, int)
    assert stored(event) == {"id": event.id, "order": order.id, "event_type": "order_created", "provider_status": "",
                             "status": "NEW", "previous_status": "", "applied": True, "occurred_at": None,
                             "webhook_id": event.webhook_id, "created_at": event.created_at}
