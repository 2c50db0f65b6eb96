"""The wallet against the Operator fake over HTTP: the seed's acceptance criteria, concurrency,
and the whole path to the RGS webhook with a real worker."""

import json
import threading
import time
from decimal import Decimal

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client

from hub.testing import wait_until
from wallet.models import WalletTransaction
from wallet.services import wallet_resolve_pending
from wallet.tests.helpers import debit_body, signed_headers, wallet_post
from webhooks.models import OutboxMessage
from webhooks.tests.factories import DestinationFactory

pytestmark = pytest.mark.e2e
AUTH = {"Authorization": f"Bearer {settings.OPERATOR_API_KEY}"}


@pytest.fixture
def operator(operator_mock, settings):
    settings.OPERATOR_BASE_URL = operator_mock.url
    return operator_mock


def operator_balance(operator, player: str = "player-1") -> str:
    """The player's balance at the Operator just before a 0.01 probe deposit (the API has no balance read)."""
    probe = f"probe-{time.monotonic_ns()}"
    answer = requests.post(f"{operator.url}/api/v1/wallet/deposit", headers=AUTH, timeout=5,
                           json={"player_id": player, "amount": "0.01", "currency": "USD", "transaction_id": probe})
    balance = answer.json()["balance"]
    return str(Decimal(balance) - Decimal("0.01"))


@pytest.mark.django_db
def test_1_same_key_charges_once_and_answers_the_same(client, operator):
    DestinationFactory(name="rgs")
    first = wallet_post(client, "debit", debit_body(), key="k-1")
    second = wallet_post(client, "debit", debit_body(), key="k-1")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.content == first.content and second["Idempotent-Replayed"] == "true"
    assert len(operator.requests("withdraw")) == 1
    assert operator_balance(operator) == "87.66"


@pytest.mark.django_db
def test_2_two_failures_then_success_is_one_transaction_id(client, operator):
    DestinationFactory(name="rgs")
    operator.script("withdraw", [{"status": 500}, {"status": 500}])

    answer = wallet_post(client, "debit", debit_body())

    assert answer.status_code == 201
    calls = operator.requests("withdraw")
    assert [c["status"] for c in calls] == [500, 500, 200]
    assert {json.loads(c["body"])["transaction_id"] for c in calls} == {"ref-1"}
    assert operator_balance(operator) == "87.66"


@pytest.mark.django_db
def test_3_a_429_retry_after_is_waited(client, operator):
    DestinationFactory(name="rgs")
    operator.script("withdraw", [{"status": 429, "headers": {"Retry-After": "2"}}])

    started = time.monotonic()
    answer = wallet_post(client, "debit", debit_body())

    assert answer.status_code == 201
    assert time.monotonic() - started >= 2
    assert [c["status"] for c in operator.requests("withdraw")] == [429, 200]


@pytest.mark.django_db
def test_5_an_unsupported_currency_never_reaches_the_operator(client, operator):
    answer = wallet_post(client, "debit", debit_body(currency="TRY"))

    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "UNSUPPORTED_CURRENCY")
    assert operator.requests() == []


@pytest.mark.django_db
def test_7_a_tampered_body_or_stale_timestamp_is_401(client, operator):
    raw = json.dumps(debit_body()).encode()
    tampered = client.post("/wallet/debit", data=raw.replace(b"1234", b"9999"), content_type="application/json",
                           **signed_headers(raw))
    stale = client.post("/wallet/debit", data=raw, content_type="application/json",
                        **signed_headers(raw, timestamp=int(time.time()) - 301))

    assert (tampered.status_code, stale.status_code) == (401, 401)
    assert operator.requests() == []


@pytest.mark.django_db
def test_operator_down_then_the_same_key_succeeds_with_one_charge(client, operator, settings):
    DestinationFactory(name="rgs")
    settings.OPERATOR_MAX_ATTEMPTS = 2
    operator.script("withdraw", [{"status": 503}, {"status": 503}])

    down = wallet_post(client, "debit", debit_body(), key="k-1")
    again = wallet_post(client, "debit", debit_body(), key="k-1")

    assert (down.status_code, down.json()["error"]["code"], again.status_code) == (503, "OPERATOR_UNAVAILABLE", 201)
    assert "Retry-After" in down
    assert operator_balance(operator) == "87.66"


@pytest.mark.django_db
def test_a_timeout_after_the_operator_charged_is_settled_without_a_second_charge(client, operator, settings):
    """The Operator applied the debit but the answer never came back: the retry gets its first answer."""
    DestinationFactory(name="rgs")
    settings.OPERATOR_TIMEOUT_SECONDS = 0.5
    settings.OPERATOR_MAX_ATTEMPTS = 1
    operator.script("withdraw", [{"pass": True, "delayMs": 1500}])

    lost = wallet_post(client, "debit", debit_body(), key="k-1")
    time.sleep(1.2)  # the Operator finishes the first request meanwhile
    again = wallet_post(client, "debit", debit_body(), key="k-1")

    assert (lost.status_code, again.status_code) == (503, 201)
    assert again.json()["balanceCents"] == 8766
    assert operator_balance(operator) == "87.66"


def concurrently(count: int, request) -> list:
    barrier, answers, lock = threading.Barrier(count), [], threading.Lock()

    def run(n: int) -> None:
        try:
            barrier.wait()
            answer = request(Client(), n)
            with lock:
                answers.append((answer.status_code, answer.content))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same", ["key", "refId"])
def test_concurrent_requests_charge_exactly_once(operator, same):
    DestinationFactory(name="rgs")
    operator.script("withdraw", [{"pass": True, "delayMs": 300}])  # keep the first one in flight

    answers = concurrently(24, lambda client, n: wallet_post(client, "debit", debit_body(),
                                                             key="one-key" if same == "key" else f"key-{n}"))

    statuses = sorted(status for status, _ in answers)
    assert set(statuses) <= {201, 409} and 201 in statuses
    successes = {content for status, content in answers if status == 201}
    assert len(successes) == 1  # every 201 is the same answer
    assert len(operator.requests("withdraw")) == 1
    assert WalletTransaction.objects.count() == 1
    assert OutboxMessage.objects.count() == 1
    assert operator_balance(operator) == "87.66"


@pytest.mark.django_db(transaction=True)
def test_wallet_request_against_the_running_hub_reaches_the_rgs(live_server, operator, rgs_mock, start_worker, capsys):
    DestinationFactory(name="rgs", url=f"{rgs_mock.url}/webhooks", signing_secrets=settings.RGS_WEBHOOK_SECRET)
    start_worker()

    call_command("wallet_request", "debit", "--player", "player-9", "--amount", "250", "--ref", "bet-42",
                 "--round", "round-7", "--url", live_server.url)
    debit_out = capsys.readouterr().out
    call_command("wallet_request", "credit", "--player", "player-9", "--amount", "1000", "--ref", "win-42",
                 "--round", "round-7", "--bet", "bet-42", "--kind", "JACKPOT", "--close-round", "--url", live_server.url)
    credit_out = capsys.readouterr().out
    call_command("wallet_request", "round", "--round", "round-7", "--url", live_server.url)
    round_out = capsys.readouterr().out

    assert "HTTP 201" in debit_out and '"balanceCents":9750' in debit_out
    assert "HTTP 201" in credit_out and '"balanceCents":10750' in credit_out
    assert "HTTP 200" in round_out and '"status":"CLOSED"' in round_out and '"netCents":750' in round_out
    wait_until(lambda: rgs_mock.control("webhooks")["distinct"] == 2, timeout=30, what="the RGS webhooks")
    items = sorted(rgs_mock.control("webhooks")["items"], key=lambda item: item["data"]["refId"])
    assert [(item["type"], item["data"]["refId"], item["data"]["amountCents"], item["data"]["kind"],
             item["data"]["roundId"]) for item in items] == [
        ("wallet.transaction.completed", "bet-42", 250, None, "round-7"),
        ("wallet.transaction.completed", "win-42", 1000, "JACKPOT", "round-7")]


@pytest.mark.django_db
def test_the_resolver_settles_what_a_lost_answer_left_pending(client, operator, settings):
    DestinationFactory(name="rgs")
    settings.OPERATOR_TIMEOUT_SECONDS = 0.5
    settings.OPERATOR_MAX_ATTEMPTS = 1
    operator.script("withdraw", [{"pass": True, "delayMs": 1500}])
    assert wallet_post(client, "debit", debit_body()).status_code == 503
    time.sleep(1.2)  # the Operator applies it after the hub gave up waiting

    assert wallet_resolve_pending(older_than_seconds=0) == 1

    tx = WalletTransaction.objects.get()
    assert (tx.status, tx.balance_cents) == (WalletTransaction.Status.COMPLETED, 8766)
    assert OutboxMessage.objects.get().event_type == "wallet.transaction.completed"
    assert operator_balance(operator) == "87.66"


@pytest.mark.django_db
@pytest.mark.parametrize("ref_id", ["bet#1", "bet?1", "bet/1", "bet%2F1"])
def test_the_resolver_asks_the_operator_about_the_very_refid(client, operator, settings, ref_id):
    """An unencoded "bet/1" once asked about "bet", got 404 and settled a charged debit FAILED."""
    DestinationFactory(name="rgs")
    settings.OPERATOR_TIMEOUT_SECONDS = 0.5
    settings.OPERATOR_MAX_ATTEMPTS = 1
    operator.script("withdraw", [{"pass": True, "delayMs": 1500}])
    assert wallet_post(client, "debit", debit_body(ref_id=ref_id)).status_code == 503
    time.sleep(1.2)

    assert wallet_resolve_pending(older_than_seconds=0) == 1

    assert WalletTransaction.objects.get().status == WalletTransaction.Status.COMPLETED
    assert operator_balance(operator) == "87.66"
