from prometheus_client.core import GaugeMetricFamily

from webhooks.selectors import circuit_states, outbox_backlog

CIRCUIT_VALUES = {"closed": 0, "half-open": 1, "open": 2}


def collect():
    backlog = GaugeMetricFamily("hub_outbox_messages", "Outbox messages by destination and status (read at scrape)",
                                labels=["destination", "status"])
    for (destination, status), count in sorted(outbox_backlog().items()):
        backlog.add_metric([destination, status], count)
    yield backlog
    circuits = GaugeMetricFamily("hub_outbox_circuit_state", "Circuit breaker: 0 closed, 1 half-open, 2 open",
                                 labels=["destination"])
    for destination, state in sorted(circuit_states().items()):
        circuits.add_metric([destination], CIRCUIT_VALUES[state])
    yield circuits
