"""Property-based: whatever body the backend sends to a decision endpoint, the answer is a documented
4xx or 2xx, never a 500, and nothing is decided or queued unless the answer is 202."""

import json

import pytest
from django.conf import settings
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hub.json_strategies import deep_values, dumps, json_values
from providers.models import Order, OrderDecision
from providers.tests.factories import OrderFactory
from webhooks.models import OutboxMessage
from webhooks.tests.factories import DestinationFactory

pytestmark = pytest.mark.django_db
EXAMPLES = hypothesis_settings(max_examples=200, deadline=None,
                               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
BODIES = st.one_of(
    json_values.map(dumps),
    st.fixed_dictionaries({}, optional={"preparationMinutes": json_values, "reason": json_values,
                                        "message": json_values, "extra": json_values}).map(dumps),
    st.sampled_from([{"reason": "TOO_BUSY"}, {"preparationMinutes": 15}]).map(lambda b: json.dumps(b).encode()),
    deep_values.map(dumps),
    st.binary(max_size=200),
)


@pytest.fixture(autouse=True)
def backend():
    DestinationFactory(name="backend")


@EXAMPLES
@given(action=st.sampled_from(["accept", "reject", "ready", "picked-up"]), body=BODIES,
       status=st.sampled_from(["NEW", "ACCEPTED", "READY", "CANCELLED"]))
def test_any_body_gets_a_documented_answer_and_only_a_202_queues_a_call(action, body, status):
    order = OrderFactory.create(provider="careem", status=status, provider_refs={"brandId": "b"})
    calls_before = OutboxMessage.objects.count()

    answer = Client().post(f"/api/orders/{order.id}/{action}", data=body, content_type="application/json",
                           HTTP_X_AUTH=settings.BACKEND_CALLBACK_KEY)

    assert answer.status_code in {202, 400, 409, 422}, answer.content
    assert answer.json()  # a JSON body, always
    if answer.json().get("status") == "VALIDATION_ERROR":  # one shape everywhere: field → messages
        details = answer.json()["error"]["details"]
        assert isinstance(details, dict) and all(isinstance(m, list) and all(isinstance(t, str) for t in m)
                                                 for m in details.values()), details
    queued = OutboxMessage.objects.count() - calls_before
    decided = OrderDecision.objects.filter(order=order).exists()
    if answer.status_code == 202:
        assert decided and queued == (1 if answer.json()["call"] == "queued" else 0)  # Careem: no pickup call
    else:
        assert not decided and queued == 0
        assert Order.objects.get(id=order.id).status == status
