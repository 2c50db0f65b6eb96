"""Read at scrape time: orders still waiting for the restaurant's decision; menus a provider does not have."""

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from providers.menus import menu_syncs_needing_attention
from providers.selectors import undecided_orders_by_provider


def collect() -> Iterator[Metric]:
    awaiting = GaugeMetricFamily("hub_orders_awaiting_decision",
                                 "NEW orders with a provider deadline, by provider and whether it is near",
                                 labels=["provider", "near_deadline"])
    for (provider, near), count in sorted(undecided_orders_by_provider().items()):
        awaiting.add_metric([provider, "true" if near else "false"], count)
    yield awaiting
    syncs = GaugeMetricFamily("hub_menu_syncs_needing_attention",
                              "Branches whose newest menu sync ended failed, partial or timed out, by provider and state",
                              labels=["provider", "state"])
    for (provider, state), count in sorted(menu_syncs_needing_attention().items()):
        syncs.add_metric([provider, state], count)
    yield syncs
