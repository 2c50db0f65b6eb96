"""Order decisions from the admin: permission, who did it, the reason, the near-deadline flag."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from providers.adapters import ADAPTERS
from providers.calls import call_now
from providers.models import OrderDecision
from providers.tests.factories import OrderFactory
from webhooks.models import OutboxMessage
from webhooks.tests.factories import DestinationFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/providers/order/"


@pytest.fixture(autouse=True)
def backend():
    DestinationFactory(name="backend")


def careem_order(**fields):
    return OrderFactory.create(provider="careem", branch_id="loc_amman_abdoun", provider_refs={"brandId": "b-1"}, **fields)


def test_accept_from_the_admin_is_recorded_with_who_did_it_and_reaches_provider_and_backend(admin_client):
    order = careem_order()

    answer = admin_client.post(CHANGELIST, {"action": "accept_selected", "_selected_action": [str(order.id)]}, follow=True)

    assert f"Accept: {order.external_order_id} → queued" in answer.content.decode()
    decision = OrderDecision.objects.get(order=order)
    assert (decision.action, decision.decided_by) == ("accept", "admin:admin")
    assert LogEntry.objects.get().get_change_message() == "accept: call queued"
    assert sorted(OutboxMessage.objects.values_list("destination__name", flat=True)) == ["backend", "careem"]


def test_reject_needs_a_reason_and_sends_it(admin_client):
    order = careem_order()
    action = {"action": "reject_selected", "_selected_action": [str(order.id)]}

    without = admin_client.post(CHANGELIST, action, follow=True)
    with_reason = admin_client.post(CHANGELIST, {**action, "reason": "CLOSED"}, follow=True)

    assert "Choose a reject reason first." in without.content.decode()
    assert "Reject: " in with_reason.content.decode()
    call = call_now(ADAPTERS["careem"], OutboxMessage.objects.get(destination__name="careem")).__dict__
    assert call["body"] == {"state": "cancelled", "cancellation_reason": "OUTLET_CLOSED"}


def test_a_refused_transition_is_reported_not_raised(admin_client):
    order = careem_order()

    answer = admin_client.post(CHANGELIST, {"action": "mark_ready_selected", "_selected_action": [str(order.id)]},
                               follow=True)

    assert "Ready refused for" in answer.content.decode() and "INVALID_TRANSITION" in answer.content.decode()
    assert not OrderDecision.objects.exists()


def test_deciding_needs_its_permission(client):
    order = careem_order()
    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)

    assert "accept_selected" not in client.get(CHANGELIST).content.decode()
    client.post(CHANGELIST, {"action": "accept_selected", "_selected_action": [str(order.id)]})

    assert not OrderDecision.objects.exists()


def test_orders_near_their_deadline_are_flagged_and_filtered(admin_client):
    near = careem_order(deadline_at=timezone.now() + timedelta(minutes=2))
    later = careem_order(deadline_at=timezone.now() + timedelta(minutes=9))

    page = admin_client.get(CHANGELIST, {"awaiting": "near_deadline"}).content.decode()

    assert near.external_order_id in page and later.external_order_id not in page
    assert "⚠ near deadline" in page
