"""`hub.db.insert` writes the row `save()` would: a generated id, a Python-side UUID, auto_now, JSON."""

import uuid

import pytest
from django.forms.models import model_to_dict

from django.db import IntegrityError

from hub.db import insert, insert_after, insert_together
from providers.models import Order, OrderDecision, OrderEvent
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


def test_rows_inserted_together_get_their_ids_and_the_last_part_its_answer():
    order = OrderFactory.build()
    event = OrderEvent(order=order, event_type="order_created", status="NEW", applied=True, webhook_id=uuid.uuid4())

    answer = insert_together([order, event], then="SELECT count(*) FROM row1")

    assert answer == 1 and isinstance(event.id, int) and not order._state.adding
    assert stored(event)["order"] == order.id  # the event's foreign key to the order written beside it


@pytest.mark.django_db(transaction=True)  # autocommit: rows written by statements of their own would stay
def test_rows_inserted_together_are_all_or_nothing():
    taken = OrderFactory()
    order = OrderFactory.build()
    clash = OrderFactory.build(provider=taken.provider, external_order_id=taken.external_order_id)

    with pytest.raises(IntegrityError):
        insert_together([order, clash])

    assert not Order.objects.filter(id=order.id).exists()


def test_a_row_inserted_after_another_is_the_row_save_writes():
    taken = OrderFactory()
    first = OrderEvent(order=taken, event_type="order_created", status="NEW", applied=True, webhook_id=uuid.uuid4())
    second = OrderFactory.build(warnings=["unmapped item 'x'"], data={"items": [{"name": "Ünïcode", "n": 1.5}]},
                                deadline_at=None)
    saved = OrderFactory.build(warnings=second.warnings, data=second.data, deadline_at=None)

    written = insert_after(first, second)
    saved.save()

    assert written == (True, True) and isinstance(first.id, int) and not second._state.adding
    ignore = {"id", "external_order_id", "placed_at", "created_at", "updated_at", "deadline_at"}
    assert {k: v for k, v in stored(second).items() if k not in ignore} == {
        k: v for k, v in stored(saved).items() if k not in ignore}  # every type reaches its column


def test_a_row_after_one_held_back_is_not_written():
    taken = OrderFactory()
    OrderDecision.objects.create(order=taken, action="accept", decided_by="backend", call="queued")
    same_decision = OrderDecision(order=taken, action="accept", decided_by="admin:x", call="queued")
    order = OrderFactory.build()

    assert insert_after(same_decision, order) == (False, False)
    assert same_decision.id is None and order._state.adding
    assert not Order.objects.filter(id=order.id).exists()


def test_a_second_row_held_back_leaves_the_first_written():
    taken = OrderFactory()
    event = OrderEvent(order=taken, event_type="order_created", status="NEW", applied=True, webhook_id=uuid.uuid4())
    clash = OrderFactory.build(provider=taken.provider, external_order_id=taken.external_order_id)

    assert insert_after(event, clash) == (True, False)
    assert OrderEvent.objects.filter(id=event.id).exists() and clash._state.adding
    assert Order.objects.filter(external_order_id=taken.external_order_id).count() == 1
