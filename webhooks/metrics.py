from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from webhooks.selectors import circuit_states, listening_dispatchers, oldest_pending_by_destination, outbox_backlog

CIRCUIT_VALUES = {"closed": 0, "half-open": 1, "open": 2}


def collect():
    backlog = GaugeMetricFamily("hub_outbox_messages", "PENDING and DEAD_LETTER outbox messages by destination (read at scrape)",
                                labels=["destination", "status"])
    for (destination, status), count in sorted(outbox_backlog().items()):
        backlog.add_metric([destination, status], count)
    yield backlog
    circuits = GaugeMetricFamily("hub_outbox_circuit_state", "Circuit breaker: 0 closed, 1 half-open, 2 open",
                                 labels=["destination"])
    for destination, state in sorted(circuit_states().items()):
        circuits.add_metric([destination], CIRCUIT_VALUES[state])
    yield circuits
    oldest = GaugeMetricFamily("hub_outbox_oldest_pending_age_seconds",
                               "Age of the oldest PENDING message per destination (read at scrape)", labels=["destination"])
    now = timezone.now()
    for destination, created in sorted(oldest_pending_by_destination().items()):
        oldest.add_metric([destination], (now - created).total_seconds())
    yield oldest
    yield GaugeMetricFamily("hub_outbox_dispatchers_listening",
                            "run_outbox_dispatcher processes listening for commits (read at scrape)",
                            value=listening_dispatchers())
