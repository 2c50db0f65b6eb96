"""Read at scrape time: wallet transactions stuck PENDING, and refunds the Operator has not confirmed."""

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from wallet.selectors import stale_pending_count, unconfirmed_compensations


def collect() -> Iterator[Metric]:
    stale = GaugeMetricFamily("hub_wallet_pending_stale_transactions",
                              "PENDING wallet transactions older than WALLET_PENDING_RESOLVE_AFTER_SECONDS")
    stale.add_metric([], stale_pending_count())
    yield stale
    owed = GaugeMetricFamily("hub_wallet_compensations_unconfirmed",
                             "Compensating rollbacks (refunds the hub owes players) the Operator has not confirmed")
    owed.add_metric([], unconfirmed_compensations().count())
    yield owed
