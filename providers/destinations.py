"""Each provider's decision calls go to an outbox destination named after it (created on first use).

The URL is informational (each call carries its absolute URL, checked against the provider's
configured API URL); retries: 10 s, 30 s, 1, 2, 5 min, then every 5 min up to 12 attempts, editable in the admin.
"""

from webhooks.models import Destination, DestinationCircuit

from providers.adapters.base import ProviderAdapter

RETRY_DELAYS = [10, 30, 60, 120, 300]
MAX_ATTEMPTS = 12


def ensure_provider_destination(adapter: ProviderAdapter) -> Destination:
    destination, created = Destination.objects.get_or_create(
        name=adapter.name, defaults={"url": adapter.api_origin(), "retry_delays": RETRY_DELAYS,
                                     "max_attempts": MAX_ATTEMPTS, "timeout_seconds": 10.0})
    if created:
        DestinationCircuit.objects.get_or_create(destination=destination)
    return destination
