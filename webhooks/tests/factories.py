import factory
from django.utils import timezone

from webhooks.models import Destination, OutboxMessage
from webhooks.outbox import new_event_id

RGS_SECRET = "whsec_dGVzdC1yZ3Mtc2lnbmluZy1zZWNyZXQtMDAx"
NEW_SECRET = "whsec_dGVzdC1yZ3Mtcm90YXRlZC1zZWNyZXQtMDAy"


class DestinationFactory(factory.django.DjangoModelFactory[Destination]):
    class Meta:
        model = Destination

    name = factory.Sequence(lambda n: f"dest-{n}")
    url = "http://127.0.0.1:9/webhooks"
    signing_secrets = RGS_SECRET
    retry_delays = [1, 5, 15, 60, 300]
    max_attempts = 6
    timeout_seconds = 2.0


class OutboxMessageFactory(factory.django.DjangoModelFactory[OutboxMessage]):
    class Meta:
        model = OutboxMessage

    event_id = factory.LazyFunction(new_event_id)
    event_type = "wallet.transaction.completed"
    destination = factory.SubFactory(DestinationFactory)
    payload = factory.LazyFunction(lambda: {"refId": "r-1", "amountCents": 150})
    occurred_at = factory.LazyFunction(timezone.now)
