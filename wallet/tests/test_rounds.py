"""Rounds and kinds of credit (issue 36), against the real Operator fake over HTTP: a round's calls and totals,
a win checked against its bet, a closed round refusing calls, beat closing idle rounds, and the races that
matter for money (a win against its bet's rollback, a call against its round's closing) on real threads."""

import threading
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.test import Client
from django.utils import timezone

from wallet.models import WalletRound, WalletTransaction
from wallet.services import wallet_close_idle_rounds
from wallet.tests.helpers import signed_get_headers, debit_body, wallet_post
from webhooks.models import OutboxMessage
from webhooks.tests.factories import DestinationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]  # calls settle in autocommit

START_CENTS = 100_000


@pytest.fixture
def operator(operator_mock, settings):
    settings.OPERATOR_BASE_URL = operator_mock.url
    settings.WALLET_ROLLBACK_WAIT_SECONDS = 0.5
    DestinationFactory(name="rgs")
    for player, currency in (("p-1", "USD"), ("p-2", "USD"), ("p-3", "EUR")):
        requests.post(f"{operator_mock.url}/__control/players", timeout=5,
                      json={"playerId": player, "currency": currency, "balanceCents": START_CENTS}).raise_for_status()
    return operator_mock


def bet(client, ref_id, *, round_id="r-1", amount=1_000, player="p-1", currency="USD", **extra):
    body = {**debit_body(ref_id, amount=amount, player=player, currency=currency), "roundId": round_id, **extra}
    return wallet_post(client, "debit", {name: value for name, value in body.items() if value is not None})


def win(client, ref_id, *, bet_ref_id="bet-1", round_id="r-1", amount=2_500, player="p-1", currency="USD", **extra):
    body = {**debit_body(ref_id, amount=amount, player=player, currency=currency), "roundId": round_id,
            "betRefId": bet_ref_id, **extra}
    return wallet_post(client, "credit", {name: value for name, value in body.items() if value is not None})


def rollback(client, ref_id, original_ref_id, player="p-1"):
    return wallet_post(client, "rollback", {"playerId": player, "refId": ref_id, "originalRefId": original_ref_id})


def get_round(client, round_id):
    return client.get(f"/wallet/rounds/{round_id}", **signed_get_headers(f"/wallet/rounds/{round_id}"))


def operator_balance(operator, player="p-1"):
    return requests.get(f"{operator.url}/__control/players/{player}", timeout=5).json()["balanceCents"]


def code(answer):
    return answer.status_code, answer.json()["error"]["code"]


def test_a_round_of_two_bets_and_a_win_closing_it(client, operator):
    first, second = bet(client, "bet-1"), bet(client, "bet-2", amount=500)
    paid = win(client, "win-1", roundClosed=True, kind="JACKPOT")
    view = get_round(client, "r-1").json()

    assert [first.status_code, second.status_code, paid.status_code] == [201, 201, 201]
    assert paid.json()["balanceCents"] == START_CENTS - 1_500 + 2_500
    assert (view["status"], view["playerId"], view["currency"]) == ("CLOSED", "p-1", "USD")
    assert view["closedAt"] is not None
    assert view["totals"] == {"betCents": 1_500, "winCents": 2_500, "rolledBackCents": 0, "netCents": 1_000}
    assert [(tx["refId"], tx["type"], tx["roundClosed"], tx["betRefId"], tx["kind"]) for tx in view["transactions"]] == [
        ("bet-1", "DEBIT", False, None, None), ("bet-2", "DEBIT", False, None, None),
        ("win-1", "CREDIT", True, "bet-1", "JACKPOT")]


def test_a_closed_round_refuses_every_later_call_but_replays_its_own(client, operator):
    bet(client, "bet-1", roundClosed=True)

    late_bet = bet(client, "bet-2")
    late_win = win(client, "win-1")
    retried = bet(client, "bet-1", roundClosed=True)  # the closing call again, under a new Idempotency-Key

    assert code(late_bet) == code(late_win) == (409, "ROUND_CLOSED")
    assert (retried.status_code, retried.headers["Idempotent-Replayed"]) == (201, "true")
    assert list(WalletTransaction.objects.values_list("ref_id", flat=True)) == ["bet-1"]
    assert operator_balance(operator) == START_CENTS - 1_000


def test_a_round_is_one_players_in_one_currency(client, operator):
    bet(client, "bet-1")

    other_player = bet(client, "bet-2", player="p-2")
    other_currency = bet(client, "bet-3", player="p-3", currency="EUR")

    assert code(other_player) == code(other_currency) == (409, "ROUND_MISMATCH")
    assert operator_balance(operator, "p-2") == operator_balance(operator, "p-3") == START_CENTS


@pytest.mark.parametrize("case", ["unknown", "other player", "other currency", "other round", "refused", "rolled back"])
def test_a_win_whose_bet_cannot_be_paid_is_bet_not_found(client, operator, case):
    bet(client, "bet-1")
    bet(client, "bet-p2", player="p-2", round_id="r-2")
    bet(client, "bet-eur", player="p-3", currency="EUR", round_id="r-3")
    bet(client, "bet-big", amount=START_CENTS * 10, round_id="r-4")  # 402: not charged
    bet(client, "bet-other-round", round_id="r-5")
    assert rollback(client, "rb-1", "bet-1").status_code == 201
    before = operator_balance(operator)
    bet_ref_id, round_id, player, currency = {
        "unknown": ("bet-nowhere", "r-1", "p-1", "USD"), "other player": ("bet-p2", None, "p-1", "USD"),
        "other currency": ("bet-eur", None, "p-1", "USD"), "other round": ("bet-other-round", "r-1", "p-1", "USD"),
        "refused": ("bet-big", None, "p-1", "USD"), "rolled back": ("bet-1", "r-1", "p-1", "USD"),
    }[case]

    answer = win(client, "win-1", bet_ref_id=bet_ref_id, round_id=round_id, player=player, currency=currency)

    assert code(answer) == (409, "BET_NOT_FOUND")
    assert operator_balance(operator) == before
    assert not WalletTransaction.objects.filter(ref_id="win-1").exists()


def test_a_win_without_a_round_id_joins_its_bets_round_and_its_retry_is_answered_the_same(client, operator):
    bet(client, "bet-1")

    paid = win(client, "win-1", round_id=None)
    retried = win(client, "win-1", round_id=None)  # a new Idempotency-Key, the same refId

    assert paid.status_code == 201
    assert (retried.status_code, retried.content, retried.headers["Idempotent-Replayed"]) == (
        201, paid.content, "true")
    assert [tx["refId"] for tx in get_round(client, "r-1").json()["transactions"]] == ["bet-1", "win-1"]


def test_a_paid_bet_cannot_be_rolled_back_and_an_unpaid_one_shows_on_its_closed_round(client, operator):
    bet(client, "bet-1")
    bet(client, "bet-2", amount=700)
    win(client, "win-1", bet_ref_id="bet-1", roundClosed=True)

    paid = rollback(client, "rb-1", "bet-1")
    unpaid = rollback(client, "rb-2", "bet-2")
    view = get_round(client, "r-1").json()

    assert code(paid) == (409, "BET_ALREADY_PAID")
    assert unpaid.status_code == 201
    assert view["status"] == "CLOSED"  # a rollback reopens nothing
    assert [(tx["refId"], tx["status"]) for tx in view["transactions"]] == [
        ("bet-1", "COMPLETED"), ("bet-2", "ROLLED_BACK"), ("win-1", "COMPLETED"), ("rb-1", "FAILED"),
        ("rb-2", "COMPLETED")]
    assert view["totals"] == {"betCents": 1_000, "winCents": 2_500, "rolledBackCents": 700, "netCents": 1_500}
    assert operator_balance(operator) == START_CENTS - 1_000 + 2_500


def test_credit_kinds_are_stored_shown_and_sent_and_win_is_the_default(client, operator):
    plain = wallet_post(client, "credit", debit_body("c-1", player="p-1"))
    promo = wallet_post(client, "credit", {**debit_body("c-2", player="p-1"), "kind": "PROMO"})
    unknown = wallet_post(client, "credit", {**debit_body("c-3", player="p-1"), "kind": "win"})
    on_a_debit = wallet_post(client, "debit", {**debit_body("d-1", player="p-1"), "kind": "WIN"})
    lookup = client.get("/wallet/transactions/c-2", **signed_get_headers("/wallet/transactions/c-2")).json()

    assert [plain.status_code, promo.status_code] == [201, 201]
    assert (unknown.status_code, unknown.json()["error"]["details"]) == (
        400, {"kind": ["Must be one of WIN, BONUS, JACKPOT, PROMO, ADJUSTMENT."]})
    assert (on_a_debit.status_code, on_a_debit.json()["error"]["details"]) == (400, {"kind": ["Unknown field."]})
    assert (lookup["kind"], lookup["roundId"]) == ("PROMO", None)
    assert dict(WalletTransaction.objects.values_list("ref_id", "kind")) == {"c-1": "WIN", "c-2": "PROMO"}
    assert [message.payload["kind"] for message in OutboxMessage.objects.order_by("id")] == ["WIN", "PROMO"]


def test_a_round_is_read_signed_and_an_unknown_one_is_404(client, operator):
    bet(client, "bet-1")

    unsigned = client.get("/wallet/rounds/r-1")
    unknown = get_round(client, "r-nowhere")

    assert unsigned.status_code == 401
    assert code(unknown) == (404, "ROUND_NOT_FOUND")


def test_beat_closes_idle_rounds_says_so_and_later_calls_are_refused(client, operator, settings):
    settings.WALLET_ROUND_AUTOCLOSE_HOURS = 24
    bet(client, "bet-1")
    bet(client, "bet-2", round_id="r-2")
    WalletRound.objects.filter(round_id="r-1").update(last_call_at=timezone.now() - timedelta(hours=25))
    OutboxMessage.objects.all().delete()

    closed = wallet_close_idle_rounds()
    again = wallet_close_idle_rounds()
    late = bet(client, "bet-3")

    assert (closed, again) == (1, 0)
    assert dict(WalletRound.objects.values_list("round_id", "status")) == {"r-1": "AUTO_CLOSED", "r-2": "OPEN"}
    message = OutboxMessage.objects.get(event_type="wallet.round.closed")
    assert (message.payload["roundId"], message.payload["status"], message.payload["totals"]["betCents"]) == (
        "r-1", "AUTO_CLOSED", 1_000)
    assert code(late) == (409, "ROUND_CLOSED")


def run_together(*calls):
    """Each call on its own thread and database connection, released at once; their answers in order."""
    barrier, answers = threading.Barrier(len(calls)), [None] * len(calls)

    def run(n, call):
        try:
            barrier.wait()
            answers[n] = call(Client())
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def settle_by_retrying(call, client):
    """A call retried while it is told REQUEST_IN_PROGRESS, as an RGS does: its final answer."""
    for _ in range(50):
        answer = call(client)
        if answer.status_code != 409 or answer.json()["error"]["code"] != "REQUEST_IN_PROGRESS":
            return answer
    raise AssertionError("still in progress")


def test_a_win_racing_its_bets_rollback_never_both_move_money(client, operator):
    pairs = 6
    for n in range(pairs):
        bet(client, f"bet-{n}", round_id=f"race-{n}")
    before = operator_balance(operator)

    answers = run_together(*[call for n in range(pairs) for call in (
        lambda c, n=n: settle_by_retrying(lambda c: win(c, f"win-{n}", bet_ref_id=f"bet-{n}", round_id=f"race-{n}",
                                                        amount=3_000), c),
        lambda c, n=n: settle_by_retrying(lambda c: rollback(c, f"rb-{n}", f"bet-{n}"), c))])

    paid = 0
    for n in range(pairs):
        won, rolled = answers[2 * n], answers[2 * n + 1]
        outcome = (won.status_code, rolled.status_code)
        assert outcome in ((201, 409), (409, 201)), outcome
        if outcome == (201, 409):
            assert code(rolled) == (409, "BET_ALREADY_PAID")
            assert WalletTransaction.objects.get(ref_id=f"bet-{n}").status == "COMPLETED"
            paid += 3_000
        else:
            assert code(won) == (409, "BET_NOT_FOUND")
            assert WalletTransaction.objects.get(ref_id=f"bet-{n}").status == "ROLLED_BACK"
            paid += 1_000
    assert operator_balance(operator) == before + paid


def test_calls_racing_their_rounds_closing_are_in_it_or_refused(client, operator):
    bet(client, "bet-0")

    answers = run_together(lambda c: win(c, "win-close", bet_ref_id="bet-0", roundClosed=True),
                           *[lambda c, n=n: bet(c, f"bet-{n}", amount=100) for n in range(1, 6)])

    assert answers[0].status_code == 201
    accepted = {f"bet-{n}" for n, answer in enumerate(answers[1:], 1) if answer.status_code == 201}
    refused = {f"bet-{n}" for n, answer in enumerate(answers[1:], 1)
               if answer.status_code != 201 and code(answer) == (409, "ROUND_CLOSED")}
    assert len(accepted) + len(refused) == 5
    in_round = set(WalletTransaction.objects.filter(round_id="r-1").values_list("ref_id", flat=True))
    assert in_round == {"bet-0", "win-close", *accepted}
    closing = WalletTransaction.objects.get(ref_id="win-close")
    assert all(tx.id < closing.id for tx in WalletTransaction.objects.filter(ref_id__in=accepted))
    assert operator_balance(operator) == START_CENTS - 1_000 - 100 * len(accepted) + 2_500
