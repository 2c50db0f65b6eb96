"""A rollback placed at every step of its debit's protocol (SPEC §3), against the Operator fake over HTTP.

The debit runs in the test's thread; at the chosen step a hook sends the RGS's rollback from another
thread (its own database connection) and waits for its answer before the debit goes on, so each
interleaving is exact, not a matter of timing. After each: the Operator's balance is what the hub
says (charged only if the debit is COMPLETED), and the RGS's answers agree with both.
"""

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import requests
from django.db import connection
from django.test import Client

from hub import http
from wallet.models import WalletTransaction
from wallet.services import compensation_ref_id, wallet_resolve_pending
from wallet.tests.helpers import debit_body, wallet_post
from webhooks.tests.factories import DestinationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
START, AMOUNT, PLAYER = 10_000, 500, "player-race"
Status = WalletTransaction.Status
real_send = http.send


@pytest.fixture
def operator(operator_mock, settings):
    settings.OPERATOR_BASE_URL = operator_mock.url
    settings.OPERATOR_RETRY_DEADLINE_SECONDS = 3
    settings.WALLET_ROLLBACK_WAIT_SECONDS = 0.3
    DestinationFactory(name="rgs")
    requests.post(f"{operator_mock.url}/__control/players", timeout=5,
                  json={"playerId": PLAYER, "currency": "USD", "balanceCents": START}).raise_for_status()
    return operator_mock


@dataclass
class Rgs:
    """The game server: one debit, and rollbacks of it (each retry with the same Idempotency-Key)."""

    answers: list[tuple[str, int, str]] = field(default_factory=list)

    def debit(self) -> int:
        answer = wallet_post(Client(), "debit", debit_body("r1", AMOUNT, PLAYER), key="debit-r1")
        return self._keep("debit", answer)

    def rollback(self) -> int:
        body = {"playerId": PLAYER, "refId": "rb-r1", "originalRefId": "r1"}
        return self._keep("rollback", wallet_post(Client(), "rollback", body, key="rollback-r1"))

    def rollback_from_another_thread(self) -> int:
        """What the RGS sends while the debit is held at a step: answered before the debit goes on."""
        statuses: list[int] = []

        def send() -> None:
            try:
                statuses.append(self.rollback())
            finally:
                connection.close()

        sender = threading.Thread(target=send)
        sender.start()
        sender.join(timeout=30)
        assert statuses, "the rollback did not answer"
        return statuses[0]

    def _keep(self, what: str, answer) -> int:
        code = json.loads(answer.content).get("error", {}).get("code", "OK") if answer.content else ""
        self.answers.append((what, answer.status_code, code))
        return answer.status_code


def hook_operator(monkeypatch, when: Callable[[str, str, int], str | None], action: Callable[[], None]) -> None:
    """Run `action` around the hub's Operator calls: `when(method, path, call_number)` says "before"
    (the Operator has not seen the call), "after" (it applied it and answered; the hub has not read the
    answer) or "lost" (applied, and the answer never reaches the hub), or None."""
    calls: dict[str, int] = {}

    def send(request, **kwargs):
        path = request.path_url
        operation = "status" if "/transactions/" in path else path.rsplit("/", 1)[-1]
        calls[operation] = calls.get(operation, 0) + 1
        moment = when(request.method, operation, calls[operation])
        if moment == "before":
            action()
        response = real_send(request, **kwargs)
        if moment == "after":
            action()
        if moment == "lost":
            raise requests.ConnectionError("the answer was lost")
        return response

    monkeypatch.setattr(http, "send", send)


def balance(operator) -> int:
    return requests.get(f"{operator.url}/__control/players/{PLAYER}", timeout=5).json()["balanceCents"]


def debit_row() -> WalletTransaction:
    return WalletTransaction.objects.get(ref_id="r1")


def assert_agreed(operator, rgs: Rgs) -> None:
    """The Operator's balance = the hub's settlement = what the RGS's last answers said."""
    debit = debit_row()
    charged_by_hub = debit.status == Status.COMPLETED
    assert balance(operator) == START - (AMOUNT if charged_by_hub else 0), (debit.status, rgs.answers)
    last = {what: (status, code) for what, status, code in rgs.answers}
    told_charged = last.get("debit", (0, ""))[0] == 201 and last.get("rollback", (0, ""))[0] != 201
    assert told_charged == charged_by_hub, (debit.status, rgs.answers)
    assert WalletTransaction.objects.filter(status=Status.PENDING).count() == 0


def test_a_rollback_before_the_debit_refuses_the_debit_and_charges_nothing(operator):
    rgs = Rgs()
    assert rgs.rollback() == 404
    assert rgs.debit() == 409
    assert rgs.answers[-1][2] == "ALREADY_ROLLED_BACK"
    assert operator.requests("withdraw") == []
    assert balance(operator) == START


@pytest.mark.parametrize("moment", ["before", "after"])
def test_a_rollback_while_the_operator_call_is_in_flight_waits_then_refunds(operator, monkeypatch, moment):
    """`before`: the debit is PENDING and the withdraw not yet at the Operator (the old bug: the Operator
    answered the rollback 404 and the hub called the debit rolled back, then the withdraw charged)."""
    rgs = Rgs()
    answers: list[int] = []
    hook_operator(monkeypatch, lambda method, op, n: moment if op == "withdraw" and n == 1 else None,
                  lambda: answers.append(rgs.rollback_from_another_thread()))

    assert rgs.debit() == 201
    assert answers == [409] and rgs.answers[0][2] == "REQUEST_IN_PROGRESS"
    assert rgs.rollback() == 201
    assert debit_row().status == Status.ROLLED_BACK
    assert_agreed(operator, rgs)


@pytest.mark.parametrize("failures", [1, 2])
def test_a_rollback_during_each_retry_of_the_withdraw_waits_then_refunds(operator, monkeypatch, failures):
    operator.script("withdraw", [{"status": 503}] * failures)
    rgs = Rgs()
    answers: list[int] = []
    hook_operator(monkeypatch, lambda method, op, n: "before" if op == "withdraw" and n > 1 else None,
                  lambda: answers.append(rgs.rollback_from_another_thread()))

    assert rgs.debit() == 201
    assert answers == [409] * failures
    assert len(operator.requests("withdraw")) == failures + 1
    assert rgs.rollback() == 201
    assert_agreed(operator, rgs)


def test_a_rollback_after_the_answers_were_lost_waits_and_the_debit_retry_settles_it(operator, monkeypatch):
    """The Operator charged; the hub never heard (503, PENDING). A rollback now cannot know: 409.
    The RGS retries the debit (the same transaction id: the Operator's first answer), then the rollback."""
    rgs = Rgs()
    hook_operator(monkeypatch, lambda method, op, n: "lost" if op == "withdraw" and n <= 10 else None, lambda: None)
    assert rgs.debit() == 503
    assert balance(operator) == START - AMOUNT and debit_row().status == Status.PENDING

    assert rgs.rollback() == 409
    monkeypatch.setattr(http, "send", real_send)
    assert rgs.debit() == 201
    assert rgs.rollback() == 201
    assert_agreed(operator, rgs)


def abandoned_debit(operator, monkeypatch, *, applied: bool) -> Rgs:
    """A debit answered 503 and left PENDING: the Operator charged it (its answers were lost), or never did."""
    rgs = Rgs()
    if applied:
        hook_operator(monkeypatch, lambda method, op, n: "lost" if op == "withdraw" else None, lambda: None)
    else:
        operator.script("withdraw", [{"status": 503}] * 10)
    assert rgs.debit() == 503
    return rgs


@pytest.mark.parametrize("applied", [True, False])
def test_a_rollback_of_an_abandoned_debit_resolves_it_first(operator, monkeypatch, settings, applied):
    """No process is driving the PENDING debit and it is old enough for the resolver: the rollback
    resolves it itself (asks the Operator) and goes on: refunded, or nothing was charged (404)."""
    settings.WALLET_PENDING_RESOLVE_AFTER_SECONDS = 0
    rgs = abandoned_debit(operator, monkeypatch, applied=applied)
    monkeypatch.setattr(http, "send", real_send)

    assert rgs.rollback() == (201 if applied else 404)
    assert debit_row().status == (Status.ROLLED_BACK if applied else Status.FAILED)
    assert_agreed(operator, rgs)


@pytest.mark.parametrize("applied", [True, False])
def test_a_rollback_during_the_resolver_waits_for_it(operator, monkeypatch, applied):
    rgs = abandoned_debit(operator, monkeypatch, applied=applied)
    answers: list[int] = []
    hook_operator(monkeypatch, lambda method, op, n: "after" if op == "status" else None,
                  lambda: answers.append(rgs.rollback_from_another_thread()))

    assert wallet_resolve_pending(older_than_seconds=0) == 1
    assert answers == [409]
    assert debit_row().status == (Status.COMPLETED if applied else Status.FAILED)
    assert rgs.rollback() == (201 if applied else 404)
    assert_agreed(operator, rgs)


def test_a_withdraw_applied_after_the_hub_settled_it_failed_is_refunded_by_compensation(operator, monkeypatch):
    """The debit's lease ran out while its withdraw was still on its way; the resolver asked the
    Operator (404) and settled it FAILED. Then the withdraw landed: its late answer starts the refund."""
    def resolver_first() -> None:
        WalletTransaction.objects.filter(ref_id="r1").update(processing_until=None)
        hook_operator(monkeypatch, lambda method, op, n: None, lambda: None)
        assert wallet_resolve_pending(older_than_seconds=0) == 1
        monkeypatch.setattr(http, "send", hooked)

    hook_operator(monkeypatch, lambda method, op, n: "before" if op == "withdraw" else None, resolver_first)
    hooked = http.send
    rgs = Rgs()

    assert rgs.debit() == 502  # the resolver's settlement, which the RGS hears
    assert balance(operator) == START - AMOUNT
    compensation = WalletTransaction.objects.get(original_ref_id="r1", is_compensation=True)
    assert compensation.ref_id == compensation_ref_id(debit_row()) and compensation.status == Status.PENDING

    monkeypatch.setattr(http, "send", real_send)
    assert wallet_resolve_pending(only_ids=[compensation.id], older_than_seconds=0) == 1
    assert balance(operator) == START
    assert debit_row().status == Status.ROLLED_BACK
    assert WalletTransaction.objects.get(id=compensation.id).status == Status.COMPLETED
    assert len(operator.requests("rollback")) == 1
    assert_agreed(operator, rgs)
