from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from hub.signing import hex_hmac
from hub.testing import database_url_of_test_db, free_port, mock_http, start_process, stop_process, subprocess_env, wait_until
from providers.models import Provider
from wallet.tests.helpers import debit_body, wallet_post
from wallet.models import WalletTransaction
from wallet.tests.factories import WalletTransactionFactory
from webhooks.tests.factories import DestinationFactory, OutboxMessageFactory
from providers.config import intake_settings

SIMPLE = (Path(settings.BASE_DIR) / "providers/tests/fixtures/careem/simple_form.json").read_bytes()


def sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


@pytest.mark.django_db
def test_metrics_count_requests_wallet_outcomes_intake_and_read_the_backlog(client, settings):
    settings.OPERATOR_BASE_URL = "http://operator.test"
    DestinationFactory(name="rgs")
    DestinationFactory(name="backend")
    Provider.objects.create(name="careem")
    before = client.get("/metrics").content.decode()

    client.get("/health")
    with mock_http() as operator:
        operator.post("http://operator.test/api/v1/wallet/withdraw", json={
            "transaction_id": "ref-1", "operator_tx_id": "op-1", "status": "approved", "balance": "87.66", "currency": "USD"})
        wallet_post(client, "debit", debit_body())
    secret = intake_settings("careem").secret
    client.post("/api/webhooks/careem", data=SIMPLE, content_type="application/json",
                HTTP_X_CAREEM_SIGNATURE=hex_hmac(secret=secret, message=SIMPLE))
    after = client.get("/metrics")

    text = after.content.decode()
    assert after["Content-Type"].startswith("text/plain")

    def delta(name: str, **labels: str) -> float:
        return sample(text, name, **labels) - sample(before, name, **labels)

    assert delta("hub_http_requests_total", route="health", method="GET", status="200") == 1
    assert delta("hub_wallet_outcomes_total", operation="debit", code="OK", replayed="false") == 1
    assert delta("hub_operator_request_duration_seconds_count", operation="withdraw", outcome="HTTP 200") == 1
    assert delta("hub_intake_webhooks_total", provider="careem", outcome="accepted") == 1
    assert sample(text, "hub_outbox_messages", destination="rgs", status="PENDING") == 1
    assert sample(text, "hub_outbox_messages", destination="backend", status="PENDING") == 1
    assert "hub_outbox_circuit_state" in text and "hub_reconciliation_last_run_mismatches" in text


@pytest.mark.e2e
def test_metrics_add_up_across_gunicorn_workers(tmp_path):
    port = free_port()
    log = tmp_path / "gunicorn.log"
    (tmp_path / "prometheus").mkdir()
    process = start_process(
        ["-m", "gunicorn", "hub.wsgi:application", "-c", "python:hub.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
         "--workers", "3"],
        env=subprocess_env(HUB_VAR_DIR=str(tmp_path), DATABASE_URL=database_url_of_test_db(),
                           CELERY_BROKER_URL="filesystem://localhost//", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus")),
        log=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _up(url), timeout=30, what="gunicorn", log=log)
        baseline = sample(requests.get(f"{url}/metrics", timeout=5).text, "hub_http_requests_total", route="health")
        # Concurrent connections, so that more than one worker serves them (one at a time, a single
        # worker may win every accept on a busy machine).
        # A burst more while only one worker has served (it flaked when one won every accept).
        sent = 0
        while sent == 0 or (sent < 300 and len(list((tmp_path / "prometheus").glob("counter_*.db"))) < 2):
            with ThreadPoolExecutor(max_workers=10) as pool:
                list(pool.map(lambda _: requests.get(f"{url}/health", timeout=5, headers={"Connection": "close"}),
                              range(60)))
            sent += 60
        scrapes = [sample(requests.get(f"{url}/metrics", timeout=5).text, "hub_http_requests_total", route="health")
                   for _ in range(5)]
    finally:
        stop_process(process)

    assert scrapes == [baseline + sent] * 5
    assert len(list((tmp_path / "prometheus").glob("counter_*.db"))) >= 2  # more than one worker served


def _up(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=2).status_code in (200, 503)
    except requests.RequestException:
        return False


@pytest.mark.django_db
def test_metrics_read_the_oldest_pending_age_and_stale_pending_wallet_transactions(client, settings):
    settings.WALLET_PENDING_RESOLVE_AFTER_SECONDS = 60
    rgs = DestinationFactory(name="rgs")
    OutboxMessageFactory(destination=rgs, created_at=timezone.now() - timedelta(minutes=20))
    OutboxMessageFactory(destination=rgs)
    OutboxMessageFactory(destination=rgs, status="DELIVERED", created_at=timezone.now() - timedelta(hours=5))
    pending = WalletTransaction.Status.PENDING
    WalletTransactionFactory(status=pending, settled_at=None, created_at=timezone.now() - timedelta(minutes=5))
    WalletTransactionFactory(status=pending, settled_at=None)

    text = client.get("/metrics").content.decode()

    assert 1195 <= sample(text, "hub_outbox_oldest_pending_age_seconds", destination="rgs") <= 1260
    assert sample(text, "hub_wallet_pending_stale_transactions") == 1
    assert sample(text, "hub_outbox_messages", destination="rgs", status="PENDING") == 2
    assert 'status="DELIVERED"' not in text  # delivered ones are counted as they happen, not by scanning
