"""Prometheus metrics: the instruments the apps record into, and the /metrics scrape.

Under several gunicorn workers and Celery processes, set PROMETHEUS_MULTIPROC_DIR (make run and
docker compose do): every process writes its samples there and a scrape sums them. Values read
from the database at scrape time (outbox backlog, circuit state, reconciliation) come from
collectors the apps register with `register_scrape_collector`.
"""

import os
from collections.abc import Callable, Iterable

import structlog
from django.db import DatabaseError
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import REGISTRY, Metric
from prometheus_client.registry import Collector

REQUESTS_SHED = Counter("hub_requests_shed_total", "Requests answered 503 OVERLOADED by admission control", ["route"])
HTTP_REQUESTS = Counter("hub_http_requests_total", "HTTP requests by route and status", ["route", "method", "status"])
HTTP_LATENCY = Histogram("hub_http_request_duration_seconds", "HTTP request duration by route", ["route"])
WALLET_OUTCOMES = Counter("hub_wallet_outcomes_total", "Wallet answers by operation and code",
                          ["operation", "code", "replayed"])
WALLET_COMPENSATIONS = Counter("hub_wallet_compensations_total",
                                "Rollbacks the hub started itself for a debit the Operator applied after the hub "
                                "settled it as not charged", ["reason"])
OPERATOR_LATENCY = Histogram("hub_operator_request_duration_seconds", "One Operator HTTP attempt",
                             ["operation", "outcome"])
OPERATOR_RETRIES = Counter("hub_operator_retries_total", "Operator attempts that are retried", ["operation", "reason"])
INTAKE = Counter("hub_intake_webhooks_total", "Provider webhooks by outcome", ["provider", "outcome"])
RATE_LIMITER_UNAVAILABLE = Counter("hub_rate_limiter_unavailable_total",
                                   "Requests let through because the shared cache could not count them", ["key"])
DATABASE_UNAVAILABLE = Counter("hub_database_unavailable_total", "Requests answered 503 because the database failed",
                               ["route"])
DELIVERY_ATTEMPTS = Counter("hub_outbox_delivery_attempts_total", "Outbox delivery attempts", ["destination", "result"])
DELIVERY_LATENCY = Histogram("hub_outbox_delivery_latency_seconds", "From a message's creation to its delivery",
                             ["destination"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 3600, 86400))
PROVIDER_LOGINS = Counter("hub_provider_logins_total", "Token requests to a provider's API", ["provider", "result"])
PROVIDER_TOKENS_UNCACHED = Counter("hub_provider_tokens_uncached_total",
                                   "Provider tokens used without the shared cache, which refused them", ["provider"])
PROVIDER_CALLS = Counter("hub_provider_calls_total", "Decision calls to a provider's API by outcome",
                         ["provider", "result"])

logger = structlog.get_logger(__name__)
_scrape_collectors: list[Callable[[], Iterable[Metric]]] = []


def register_scrape_collector(collect: Callable[[], Iterable[Metric]]) -> None:
    """A function yielding metric families, read fresh at every scrape."""
    _scrape_collectors.append(collect)


class _Fresh(Collector):
    def __init__(self, collect: Callable[[], Iterable[Metric]]) -> None:
        self._collect = collect

    def collect(self) -> Iterable[Metric]:
        try:
            return list(self._collect())
        except DatabaseError:  # a scrape must not fail with the database: process metrics still count
            logger.warning("metrics_database_read_failed", exc_info=True)
            return []


def scrape() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Fresh(REGISTRY.collect))
    for collect in _scrape_collectors:
        registry.register(_Fresh(collect))
    return generate_latest(registry)
