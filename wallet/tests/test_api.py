"""The wallet API's checks, in the contract's order, with the Operator mocked at the transport seam."""

import json
import time
from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from wallet.idempotency import idempotency_purge, request_fingerprint
from wallet.models import IdempotencyKey, WalletTransaction
from wallet.services import wallet_resolve_pending
from wallet.tests.helpers import signed_get_headers, debit_body, signed_headers, wallet_post
from webhooks.models import OutboxMessage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("operator")]
Status = WalletTransaction.Status
WITHDRAW = "http://operator.test/api/v1/wallet/withdraw"
DEPOSIT = "http://operator.test/api/v1/wallet/deposit"
ROLLBACK = "http://operator.test/api/v1/wallet/rollback"


def approve(mock, url=WITHDRAW, balance="87.66", tx="op-1"):
    mock.post(url, json={"transaction_id": "x", "operator_tx_id": tx, "status": "approved", "balance": balance, "currency": "USD"})


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-headers"),
        pytest.param({"HTTP_X_TIMESTAMP": "1"}, id="stale"),
        pytest.param("wrong-secret", id="wrong-secret"),
        pytest.param("tampered", id="tampered-body"),
        pytest.param("future", id="future"),
    ],
)
def test_every_authentication_failure_is_the_same_401(client, operator, headers):
    raw = json.dumps(debit_body()).encode()
    if headers == "wrong-secret":
        headers = signed_headers(raw, secret="not-the-secret", key=None)
    elif headers == "tampered":
        headers, raw = signed_headers(raw, key=None), raw.replace(b"1234", b"1235")
    elif headers == "future":
        headers = signed_headers(raw, timestamp=int(time.time()) + 310, key=None)
    answer = client.post("/wallet/debit", data=raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k", **headers)

    assert answer.status_code == 401
    assert answer.json() == {"status": "UNAUTHORIZED", "error": {"code": "UNAUTHORIZED", "message": "Authentication failed.", "details": None}}
    assert len(operator.calls) == 0


def test_a_missing_key_is_400_and_an_invalid_one_too(client):
    missing = wallet_post(client, "debit", debit_body(), key=None)
    invalid = wallet_post(client, "debit", debit_body(), key="bad\u00e9key")

    assert (missing.status_code, missing.json()["error"]["code"]) == (400, "MISSING_IDEMPOTENCY_KEY")
    assert (invalid.status_code, invalid.json()["error"]["code"]) == (400, "INVALID_IDEMPOTENCY_KEY")


def test_the_same_key_replays_the_answer_byte_for_byte_without_calling_again(client, operator):
    approve(operator)

    first = wallet_post(client, "debit", debit_body(), key="key-1")
    second = wallet_post(client, "debit", debit_body(), key='"key-1"')  # the sf-string form is the same key

    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert (first.get("Idempotent-Replayed"), second["Idempotent-Replayed"]) == (None, "true")
    assert len(operator.calls) == 1
    assert json.loads(operator.calls[0].request.body) == {"player_id": "player-1", "amount": "12.34", "currency": "USD",
                                                          "transaction_id": "ref-1"}


def test_the_same_key_with_another_body_is_422(client, operator):
    approve(operator)
    wallet_post(client, "debit", debit_body(), key="key-1")

    answer = wallet_post(client, "debit", debit_body(amount=999), key="key-1")

    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")


def test_a_key_still_in_flight_is_409_with_retry_after(client):
    body = json.dumps(debit_body()).encode()
    IdempotencyKey.objects.create(client_id="rgs", key="key-1", locked_until=timezone.now() + timedelta(seconds=30),
                                  fingerprint=request_fingerprint(method="POST", path="/wallet/debit", body=body))

    answer = wallet_post(client, "debit", body, key="key-1")

    assert (answer.status_code, answer["Retry-After"], answer.json()["error"]["code"]) == (409, "1", "REQUEST_IN_PROGRESS")


def test_invalid_bodies_report_every_field_and_are_not_kept_under_the_key(client, operator):
    approve(operator)
    bad = wallet_post(client, "debit", {"playerId": "", "amountCents": "12", "currency": "usd", "extra": 1}, key="key-1")
    malformed = wallet_post(client, "debit", b"{not json", key="key-2")
    good = wallet_post(client, "debit", debit_body(), key="key-1")

    assert bad.status_code == 400
    assert set(bad.json()["error"]["details"]) == {"playerId", "amountCents", "currency", "refId", "extra"}
    assert (malformed.status_code, malformed.json()["error"]["code"]) == (400, "VALIDATION_ERROR")
    assert good.status_code == 201


def test_an_unsupported_currency_is_422_without_calling_the_operator(client, operator):
    answer = wallet_post(client, "debit", debit_body(currency="TRY"))

    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "UNSUPPORTED_CURRENCY")
    assert len(operator.calls) == 0 and WalletTransaction.objects.count() == 0


def test_huge_bodies_are_413(client, operator):
    answer = wallet_post(client, "debit", b'{"meta": "' + b"x" * (1024 * 1024 + 10) + b'"}')

    assert answer.status_code == 413


def test_a_refid_with_another_key_gives_the_original_result_or_409_when_different(client, operator):
    approve(operator)
    first = wallet_post(client, "debit", debit_body())
    same = wallet_post(client, "debit", debit_body())
    different = wallet_post(client, "debit", debit_body(amount=1))

    assert (same.status_code, same.content, same["Idempotent-Replayed"]) == (201, first.content, "true")
    assert (different.status_code, different.json()["error"]["code"]) == (409, "DUPLICATE_REF_ID")
    assert len(operator.calls) == 1


def test_outcomes_are_stored_and_the_settlement_enqueues_the_rgs_webhook(client, operator):
    operator.post(WITHDRAW, status=402, json={"error": "insufficient_funds", "balance": "5.00"})

    answer = wallet_post(client, "debit", debit_body())

    assert (answer.status_code, answer.json()["error"]["details"]) == (402, {"balanceCents": 500})
    tx = WalletTransaction.objects.get()
    assert (tx.status, tx.error_code, tx.response_status) == (Status.FAILED, "INSUFFICIENT_FUNDS", 402)
    message = OutboxMessage.objects.get()
    assert (message.event_type, message.payload["refId"], message.payload["status"]) == (
        "wallet.transaction.failed", "ref-1", "FAILED")


def test_a_debit_is_two_statements_on_postgresql(client, operator, django_assert_num_queries):
    approve(operator)

    # the key with the PENDING row, then settlement, stored answer and webhook row in one statement; the
    # ORM variant writes the last three in a transaction (a savepoint and its release here, inside the
    # test's transaction) and wraps each insert in a savepoint too, since its conflict is an IntegrityError.
    with django_assert_num_queries(2):
        answer = wallet_post(client, "debit", debit_body())

    assert answer.status_code == 201
    assert WalletTransaction.objects.get().status == Status.COMPLETED
    assert OutboxMessage.objects.get().event_type == "wallet.transaction.completed"


def test_a_reused_key_is_422_even_with_an_invalid_body_and_writes_no_transaction(client, operator):
    approve(operator)
    wallet_post(client, "debit", debit_body(), key="key-1")

    reused_invalid = wallet_post(client, "debit", {"playerId": "", "amountCents": "12"}, key="key-1")
    reused_other_ref = wallet_post(client, "debit", debit_body(ref_id="ref-2"), key="key-1")

    assert (reused_invalid.status_code, reused_invalid.json()["error"]["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    assert (reused_other_ref.status_code, reused_other_ref.json()["error"]["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    assert list(WalletTransaction.objects.values_list("ref_id", flat=True)) == ["ref-1"]
    assert len(operator.calls) == 1


def test_a_key_in_flight_writes_no_transaction_for_a_new_ref_id(client, operator):
    body = json.dumps(debit_body(ref_id="ref-9")).encode()
    IdempotencyKey.objects.create(client_id="rgs", key="key-1", locked_until=timezone.now() + timedelta(seconds=30),
                                  fingerprint=request_fingerprint(method="POST", path="/wallet/debit", body=body))

    answer = wallet_post(client, "debit", body, key="key-1")

    assert answer.status_code == 409
    assert WalletTransaction.objects.count() == 0
    assert len(operator.calls) == 0


def test_a_debit_settled_by_someone_else_meanwhile_answers_theirs_and_writes_nothing_of_its_own(client, operator):
    theirs = '{"status":"OK","settledBy":"the resolver"}'

    def resolver_settles_first(request):  # while this request waits for the Operator
        WalletTransaction.objects.filter(status=Status.PENDING).update(
            status=Status.COMPLETED, response_status=201, response_body=theirs, balance_cents=1)
        return 200, {}, json.dumps({"transaction_id": "x", "operator_tx_id": "op-1", "status": "approved",
                                    "balance": "87.66", "currency": "USD"})

    operator.add_callback(responses.POST, WITHDRAW, callback=resolver_settles_first)

    answer = wallet_post(client, "debit", debit_body())

    assert (answer.status_code, answer.content.decode()) == (201, theirs)
    assert WalletTransaction.objects.get().balance_cents == 1  # not overwritten
    assert OutboxMessage.objects.count() == 0  # the resolver's webhook is the resolver's to write
    key = IdempotencyKey.objects.get()
    assert (key.status, key.response_status, key.response_body) == (IdempotencyKey.Status.COMPLETED, 201, theirs)


@pytest.mark.parametrize(("status", "body", "code", "http"), [
    (404, {"error": "player_not_found"}, "PLAYER_NOT_FOUND", 404),
    (400, {"error": "currency_mismatch"}, "OPERATOR_REJECTED", 502),
    (403, {}, "OPERATOR_REJECTED", 502),
])
def test_definite_operator_rejections(client, operator, status, body, code, http):
    operator.post(WITHDRAW, status=status, json=body)

    answer = wallet_post(client, "debit", debit_body())

    assert (answer.status_code, answer.json()["error"]["code"]) == (http, code)
    assert len(operator.calls) == 1  # 4xx are answers: never retried


def test_operator_down_is_503_kept_pending_and_the_same_key_redrives_the_same_transaction(client, operator):
    operator.post(WITHDRAW, status=503)

    down = wallet_post(client, "debit", debit_body(), key="key-1")

    assert (down.status_code, down.json()["error"]["code"]) == (503, "OPERATOR_UNAVAILABLE")
    assert int(down["Retry-After"]) >= 1
    assert WalletTransaction.objects.get().status == Status.PENDING
    assert not IdempotencyKey.objects.filter(key="key-1").exists()
    tries = len(operator.calls)
    assert tries >= 2

    operator.replace(responses.POST, WITHDRAW, json={"transaction_id": "ref-1", "operator_tx_id": "op-1",
                                                     "status": "approved", "balance": "87.66", "currency": "USD"})
    again = wallet_post(client, "debit", debit_body(), key="key-1")

    assert again.status_code == 201
    assert {json.loads(call.request.body)["transaction_id"] for call in operator.calls} == {"ref-1"}
    assert WalletTransaction.objects.get().status == Status.COMPLETED
    assert OutboxMessage.objects.count() == 1


STATUS = "http://operator.test/api/v1/wallet/transactions/ref-1"


def test_the_resolver_settles_a_debit_the_operator_applied(client, operator):
    operator.post(WITHDRAW, status=500)
    wallet_post(client, "debit", debit_body())
    operator.get(STATUS, json={"transaction_id": "ref-1", "status": "approved"})
    operator.replace(responses.POST, WITHDRAW, json={"transaction_id": "ref-1", "operator_tx_id": "op-1",
                                                     "status": "approved", "balance": "87.66", "currency": "USD"})

    assert wallet_resolve_pending(older_than_seconds=0) == 1

    tx = WalletTransaction.objects.get()
    assert (tx.status, tx.balance_cents, tx.response_status) == (Status.COMPLETED, 8766, 201)
    assert OutboxMessage.objects.get().event_type == "wallet.transaction.completed"
    assert wallet_post(client, "debit", debit_body()).content == tx.response_body.encode()


def test_the_resolver_fails_a_debit_the_operator_never_applied_without_charging(client, operator):
    operator.post(WITHDRAW, status=500)
    wallet_post(client, "debit", debit_body(), key="k-1")
    operator.get(STATUS, status=404, json={"error": "transaction_not_found"})
    calls_before = len(operator.calls)

    assert wallet_resolve_pending(older_than_seconds=0) == 1

    tx = WalletTransaction.objects.get()
    assert (tx.status, tx.response_status) == (Status.FAILED, 502)
    assert [c.request.method for c in operator.calls[calls_before:]] == ["GET"]  # no withdrawal re-sent
    assert OutboxMessage.objects.get().event_type == "wallet.transaction.failed"
    assert wallet_post(client, "debit", debit_body(), key="k-1").status_code == 502  # the retry learns it


def test_the_resolver_leaves_it_pending_while_the_operator_is_down(client, operator):
    operator.post(WITHDRAW, status=500)
    wallet_post(client, "debit", debit_body())
    operator.get(STATUS, status=503)

    assert wallet_resolve_pending(older_than_seconds=0) == 0
    assert WalletTransaction.objects.get().status == Status.PENDING
    assert wallet_resolve_pending(older_than_seconds=3600) == 0  # too young to resolve


def test_expired_idempotency_keys_are_purged(client, operator):
    approve(operator)
    wallet_post(client, "debit", debit_body(), key="old")
    wallet_post(client, "debit", debit_body("ref-2"), key="new")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))

    assert idempotency_purge() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_rollback_returns_the_money_and_a_late_debit_of_a_rolled_back_ref_never_charges(client, operator):
    approve(operator)
    approve(operator, ROLLBACK, balance="100.00", tx="op-rb")
    wallet_post(client, "debit", debit_body("bet-1"))

    rolled = wallet_post(client, "rollback", {"playerId": "player-1", "refId": "rb-1", "originalRefId": "bet-1"})
    unknown = wallet_post(client, "rollback", {"playerId": "player-1", "refId": "rb-2", "originalRefId": "bet-never-seen"})
    late = wallet_post(client, "debit", debit_body("bet-never-seen"))

    assert (rolled.status_code, rolled.json()["amountCents"], rolled.json()["type"]) == (201, 1234, "ROLLBACK")
    assert WalletTransaction.objects.get(ref_id="bet-1").status == Status.ROLLED_BACK
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "ORIGINAL_NOT_FOUND")
    assert (late.status_code, late.json()["error"]["code"]) == (409, "ALREADY_ROLLED_BACK")
    assert [c.request.url for c in operator.calls] == [WITHDRAW, ROLLBACK]


def test_credit_and_transaction_lookup(client, operator):
    approve(operator, DEPOSIT, balance="105.00")
    wallet_post(client, "credit", debit_body("win-1", amount=500))
    found = client.get("/wallet/transactions/win-1", **signed_get_headers("/wallet/transactions/win-1"))
    missing = client.get("/wallet/transactions/nope", **signed_get_headers("/wallet/transactions/nope"))
    unsigned = client.get("/wallet/transactions/win-1")

    assert (found.status_code, found.json()["status"], found.json()["balanceCents"]) == (200, "COMPLETED", 10500)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "TRANSACTION_NOT_FOUND")
    assert unsigned.status_code == 401


@pytest.mark.parametrize(("signed", "sent"), [
    ("/wallet/transactions/win-1", "/wallet/transactions/win-2"),
    ("/wallet/balance?playerId=a&currency=USD", "/wallet/balance?playerId=b&currency=USD"),
    ("/wallet/balance?playerId=a", "/wallet/balance?playerId=a&currency=EUR"),
    ("/wallet/rounds/r-1", "/wallet/rounds/r-2"),
    ("/wallet/rounds/r-1", "/wallet/rounds/r-1?x=1"),
])
def test_a_signed_get_reads_only_what_it_asked_for(client, signed, sent):
    """A GET's signature covers its request target: captured once, it cannot be replayed for another
    player, round or transaction (and the signature of an empty body no longer passes)."""
    assert client.get(sent, **signed_get_headers(signed)).status_code == 401
    assert client.get(sent, **signed_headers(b"", key=None)).status_code == 401
    assert client.get(signed, **signed_get_headers(signed)).status_code != 401


def test_several_secrets_allow_rotation(client, operator, settings):
    approve(operator)
    settings.WALLET_HMAC_SECRET = "old-secret, new-secret"

    assert wallet_post(client, "debit", debit_body("a"), secret="old-secret").status_code == 201
    assert wallet_post(client, "debit", debit_body("b"), secret="new-secret").status_code == 201


@pytest.mark.parametrize("timestamp", ["²", "١٧٠٠٠٠٠٠٠٠", "1e9", " 17"])
def test_timestamps_that_are_not_ascii_digits_are_the_same_401(client, timestamp):
    raw = json.dumps(debit_body()).encode()
    headers = {**signed_headers(raw), "HTTP_X_TIMESTAMP": timestamp}

    answer = client.post("/wallet/debit", data=raw, content_type="application/json", **headers)

    assert answer.status_code == 401


@pytest.mark.parametrize("raw", [
    b'{"playerId": "p", "amountCents": 1, "currency": "USD", "refId": "r", "meta": {"x": NaN}}',
    b'{"playerId": "p", "amountCents": 1, "currency": "USD", "refId": "r", "meta": {"x": "a\\u0000b"}}',
    b'{"playerId": "p\\ud800", "amountCents": 1, "currency": "USD", "refId": "r"}',
    b'{"playerId": "p", "amountCents": 1, "currency": "USD", "refId": "r", "meta": {"x": 1e400}}',
], ids=["nan", "nul", "surrogate", "huge-float"])
def test_values_no_database_can_store_are_400_or_kept_exactly(client, operator, raw):
    approve(operator)

    answer = client.post("/wallet/debit", data=raw, content_type="application/json", **signed_headers(raw))

    if b"1e400" in raw:  # a valid number: kept as its exact text, never Infinity
        assert answer.status_code == 201
        assert WalletTransaction.objects.get().meta == {"x": "1E+400"}
    else:
        assert answer.status_code == 400
        assert WalletTransaction.objects.count() == 0


def test_a_database_outage_is_503_with_retry_after_and_the_error_body(client, monkeypatch):
    from django.db import OperationalError

    def database_down(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("wallet.idempotency.idempotency_begin", database_down)
    raw = json.dumps(debit_body()).encode()

    answer = client.post("/wallet/debit", data=raw, content_type="application/json", **signed_headers(raw))

    assert (answer.status_code, answer["Retry-After"]) == (503, "5")
    assert answer.json() == {"status": "SERVICE_UNAVAILABLE", "error": {
        "code": "SERVICE_UNAVAILABLE", "message": "The database is unavailable; retry later.", "details": None}}


@pytest.mark.parametrize("field", ["playerId", "refId"])
@pytest.mark.parametrize("value", ["..", ".", "p\n", "p\r\n1", "\t"])
def test_an_id_that_would_change_the_operators_url_or_forge_a_log_line_is_400(client, operator, field, value):
    """The Operator's balance and status calls put playerId and refId in their paths: a dot segment would be
    resolved by the HTTP client; a newline forges a log line. Refused before the Operator is called."""
    answer = wallet_post(client, "debit", {**debit_body("ref-dots"), field: value})

    assert (answer.status_code, answer.json()["error"]["code"], list(answer.json()["error"]["details"])) == (
        400, "VALIDATION_ERROR", [field])
    assert len(operator.calls) == 0
