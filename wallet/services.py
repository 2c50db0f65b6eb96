"""Debit, credit and rollback: refId dedupe, forwarding to the Operator, settlement.

A transaction row is committed as PENDING before the Operator is called, so an unknown outcome
(timeout, 5xx after retries) leaves a record that a retry or the resolver re-drives with the same
Operator `transaction_id` (the Operator is idempotent on it: money moves at most once). The unique
`ref_id` arbitrates concurrent requests; a short `processing_until` lease lets exactly one of them
drive the Operator call. Settlement, its RGS webhook (outbox) and the stored answer commit together.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from hub import errors
from hub.db import statement_guard
from hub.money import to_major_string, to_minor
from wallet.idempotency import in_flight_lease
from wallet.models import WalletTransaction
from wallet.operator_client import OperatorAnswer, OperatorUnavailable, operator_request, operator_wallet_call
from wallet.selectors import wallet_transaction_data
from wallet.validation import WalletRequest, validate_money_request, validate_rollback_request
from webhooks.outbox import outbox_enqueue

Type, Status = WalletTransaction.Type, WalletTransaction.Status
OPERATIONS = {Type.DEBIT: "withdraw", Type.CREDIT: "deposit", Type.ROLLBACK: "rollback"}


@dataclass(frozen=True)
class WalletResponse:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    store: bool = True  # keep under the Idempotency-Key
    replayed: bool = False
    settled_with_answer: bool = False  # the answer was already stored inside the settlement


@dataclass(frozen=True)
class Outcome:
    status: str
    http_status: int
    body: dict
    error_code: str = ""
    balance_cents: int | None = None
    operator_tx_id: str = ""


def to_json(body: dict) -> str:
    return json.dumps(body, separators=(",", ":"))


def error_body(code: str, message: str, details=None) -> dict:
    return errors.ApplicationError(message, code=code, details=details).as_body()


def error_response(status: int, code: str, message: str, *, details=None, headers=None, store=True) -> WalletResponse:
    return WalletResponse(status, to_json(error_body(code, message, details)), headers or {}, store)


def _replay(tx: WalletTransaction) -> WalletResponse:
    return WalletResponse(tx.response_status, tx.response_body, store=True, replayed=True)


def _same_request(tx: WalletTransaction, type_: str, request: WalletRequest, amount: int, currency: str) -> bool:
    return (tx.type, tx.player_id, tx.amount_cents, tx.currency, tx.original_ref_id) == (
        type_, request.player_id, amount, currency, request.original_ref_id,
    )


def _claim(type_: str, request: WalletRequest, *, amount: int, currency: str) -> tuple[WalletTransaction | None, WalletResponse | None]:
    """Create the PENDING transaction, or answer from the one this refId already has."""
    now = timezone.now()
    try:
        with statement_guard():
            created = WalletTransaction.objects.create(
                ref_id=request.ref_id, type=type_, player_id=request.player_id, amount_cents=amount, currency=currency,
                original_ref_id=request.original_ref_id, meta=request.meta, processing_until=now + in_flight_lease(),
                correlation_id=structlog.contextvars.get_contextvars().get("correlation_id", ""),
            )
        return created, None
    except IntegrityError:
        pass  # this refId exists: answer from it
    existing = WalletTransaction.objects.get(ref_id=request.ref_id)
    if existing.is_tombstone and type_ == Type.DEBIT:
        return None, error_response(409, "ALREADY_ROLLED_BACK", "This refId was rolled back; the debit is refused.")
    if existing.is_tombstone or not _same_request(existing, type_, request, amount, currency):
        return None, error_response(409, "DUPLICATE_REF_ID", "This refId was already used for a different request.")
    if existing.status != Status.PENDING:
        return None, _replay(existing)
    taken = WalletTransaction.objects.filter(id=existing.id, status=Status.PENDING).filter(
        Q(processing_until__isnull=True) | Q(processing_until__lt=now)
    ).update(processing_until=now + in_flight_lease())
    if not taken:
        return None, error_response(
            409, "REQUEST_IN_PROGRESS", "A request for this refId is in progress.", headers={"Retry-After": "1"}, store=False
        )
    existing.refresh_from_db()
    return existing, None


# --- the three operations ---------------------------------------------------------------
OnSettled = Callable[[int, str], None]


def wallet_money(*, type_: str, payload, on_settled: OnSettled | None = None) -> WalletResponse:
    """Debit or credit. `on_settled(status, body)` runs inside the settlement's transaction (the
    caller stores its idempotent answer there: one commit fewer, and never a settled transaction
    whose key answer is missing)."""
    request, problems = validate_money_request(payload)
    if problems:
        return error_response(400, "VALIDATION_ERROR", "The request body is invalid.", details=problems, store=False)
    if request.currency not in settings.WALLET_SUPPORTED_CURRENCIES:
        return error_response(
            422, "UNSUPPORTED_CURRENCY", f"Currency {request.currency} is not supported.",
            details={"supported": settings.WALLET_SUPPORTED_CURRENCIES}, store=False,
        )
    tx, answer = _claim(type_, request, amount=request.amount_cents, currency=request.currency)
    return answer or _forward(tx, on_settled)


def wallet_rollback(*, payload, on_settled: OnSettled | None = None) -> WalletResponse:
    request, problems = validate_rollback_request(payload)
    if problems:
        return error_response(400, "VALIDATION_ERROR", "The request body is invalid.", details=problems, store=False)
    original = _original_or_tombstone(request)
    real = original is not None and not original.is_tombstone
    tx, answer = _claim(
        Type.ROLLBACK, request, amount=original.amount_cents if real else 0, currency=original.currency if real else ""
    )
    if answer:
        return answer
    if not real or original.type != Type.DEBIT or original.player_id != request.player_id or original.status == Status.FAILED:
        return _settle(tx, _failed(404, "ORIGINAL_NOT_FOUND", "No completed debit with originalRefId for this player."),
                       on_settled)
    if original.status == Status.ROLLED_BACK:
        return _settle(tx, _failed(409, "ALREADY_ROLLED_BACK", "The original debit was already rolled back."),
                       on_settled)
    return _forward(tx, on_settled)


def _original_or_tombstone(request: WalletRequest) -> WalletTransaction | None:
    """The debit being rolled back. If the hub never saw it, a tombstone keeps its refId so the
    debit is refused if it arrives later (a timed-out bet must never charge afterwards)."""
    original = WalletTransaction.objects.filter(ref_id=request.original_ref_id).first()
    if original is not None:
        return original
    body = to_json(error_body("ALREADY_ROLLED_BACK", "This refId was rolled back; the debit is refused."))
    try:
        with statement_guard():
            WalletTransaction.objects.create(
                ref_id=request.original_ref_id, type=Type.DEBIT, player_id=request.player_id, amount_cents=0,
                status=Status.ROLLED_BACK, is_tombstone=True, response_status=409, response_body=body,
                settled_at=timezone.now(),
            )
    except IntegrityError:  # the debit itself arrived meanwhile
        return WalletTransaction.objects.get(ref_id=request.original_ref_id)
    return None


# --- Operator call and settlement ----------------------------------------------------------
def _operator_payload(tx: WalletTransaction) -> dict:
    if tx.type == Type.ROLLBACK:
        return {"transaction_id": tx.ref_id, "original_transaction_id": tx.original_ref_id, "player_id": tx.player_id}
    return {"player_id": tx.player_id, "amount": to_major_string(tx.amount_cents, tx.currency), "currency": tx.currency,
            "transaction_id": tx.ref_id}


def _forward(tx: WalletTransaction, on_settled: OnSettled | None = None) -> WalletResponse:
    try:
        answer = operator_wallet_call(OPERATIONS[tx.type], _operator_payload(tx))
    except OperatorUnavailable as exc:
        WalletTransaction.objects.filter(id=tx.id).update(processing_until=None)
        return error_response(
            503, "OPERATOR_UNAVAILABLE", "The Operator did not answer; retry with the same Idempotency-Key.",
            headers={"Retry-After": str(exc.retry_after_seconds)}, store=False,
        )
    return _settle(tx, _outcome(tx, answer), on_settled)


def _failed(http_status: int, code: str, message: str, details=None) -> Outcome:
    return Outcome(Status.FAILED, http_status, error_body(code, message, details), error_code=code)


def _outcome(tx: WalletTransaction, answer: OperatorAnswer) -> Outcome:
    error = answer.body.get("error")
    currency = tx.currency or answer.body.get("currency", "")
    if answer.status_code == 200:
        balance = to_minor(answer.body["balance"], currency)
        body = {"status": "OK", "transactionId": str(tx.transaction_id), "refId": tx.ref_id, "type": tx.type,
                "playerId": tx.player_id, "amountCents": tx.amount_cents, "currency": currency, "balanceCents": balance}
        return Outcome(Status.COMPLETED, 201, body, balance_cents=balance, operator_tx_id=answer.body.get("operator_tx_id", ""))
    if answer.status_code == 402 and error == "insufficient_funds":
        balance = to_minor(answer.body.get("balance", "0"), currency)
        return _failed(402, "INSUFFICIENT_FUNDS", "Insufficient funds.", details={"balanceCents": balance})
    if answer.status_code == 404 and error == "player_not_found":
        return _failed(404, "PLAYER_NOT_FOUND", "Unknown player.")
    if answer.status_code == 404 and error == "original_not_found":
        return _failed(404, "ORIGINAL_NOT_FOUND", "The Operator has no such debit for this player.")
    if answer.status_code == 409 and error == "already_rolled_back":
        return _failed(409, "ALREADY_ROLLED_BACK", "The original debit was already rolled back.")
    return _failed(502, "OPERATOR_REJECTED", "The Operator rejected the request.",
                   details={"operatorStatus": answer.status_code, "operatorError": error})


@transaction.atomic
def _settle(tx: WalletTransaction, outcome: Outcome, on_settled: OnSettled | None = None) -> WalletResponse:
    body = to_json(outcome.body)
    settlement = {
        "status": outcome.status, "error_code": outcome.error_code, "balance_cents": outcome.balance_cents,
        "operator_tx_id": outcome.operator_tx_id, "response_status": outcome.http_status, "response_body": body,
        "settled_at": timezone.now(), "processing_until": None,
    }
    settled = WalletTransaction.objects.filter(id=tx.id, status=Status.PENDING).update(**settlement)
    if not settled:  # a concurrent retry or the resolver settled it first: give its answer
        return _replay(WalletTransaction.objects.get(id=tx.id))
    for name, value in settlement.items():  # the row as just written, without reading it back
        setattr(tx, name, value)
    if tx.type == Type.ROLLBACK:
        _mark_original_rolled_back(tx, outcome)
    outbox_enqueue(
        destination="rgs",
        event_type="wallet.transaction.completed" if outcome.status == Status.COMPLETED else "wallet.transaction.failed",
        data=wallet_transaction_data(tx),
        ordering_key=f"player:{tx.player_id}",
        correlation_id=tx.correlation_id,
    )
    if on_settled:
        on_settled(outcome.http_status, body)
    return WalletResponse(outcome.http_status, body, settled_with_answer=on_settled is not None)


def _mark_original_rolled_back(rollback: WalletTransaction, outcome: Outcome) -> None:
    """A completed rollback cancels its debit; so does one the Operator never charged (404) while
    the debit's own outcome was unknown: that debit must not be charged later either."""
    original = WalletTransaction.objects.filter(ref_id=rollback.original_ref_id, type=Type.DEBIT)
    refused = to_json(error_body("ALREADY_ROLLED_BACK", "This refId was rolled back; the debit is refused."))
    if outcome.status == Status.COMPLETED:
        original.filter(status=Status.COMPLETED).update(status=Status.ROLLED_BACK)
    if outcome.status == Status.COMPLETED or outcome.error_code == "ORIGINAL_NOT_FOUND":
        original.filter(status=Status.PENDING).update(
            status=Status.ROLLED_BACK, response_status=409, response_body=refused, settled_at=timezone.now(),
            processing_until=None,
        )


# --- background ------------------------------------------------------------------------------
def _resolve(tx: WalletTransaction) -> bool:
    """Settle one transaction whose outcome stayed unknown. Ask the Operator first:
    * it has the transaction: re-send it (the same transaction_id gets its first answer, balance
      included, and nothing moves twice);
    * it has not: a debit is settled FAILED (money is never taken after the RGS stopped waiting);
      a credit or rollback is re-sent, as it gives money back to the player.
    The Operator not answering leaves the transaction PENDING for the next run."""
    try:
        # Encoded: "bet#1", "bet?1" or "bet/1" must not ask about "bet" (and settle a charged debit FAILED).
        status = operator_request("GET", f"/api/v1/wallet/transactions/{quote(tx.ref_id, safe='')}")
    except OperatorUnavailable:
        WalletTransaction.objects.filter(id=tx.id).update(processing_until=None)
        return False
    if status.status_code == 404 and tx.type == Type.DEBIT:
        _settle(tx, _failed(502, "OPERATOR_REJECTED", "The Operator never applied this debit; it was not charged.",
                            details={"reason": "not_applied_before_resolution"}))
        return True
    if status.status_code not in (200, 404):
        WalletTransaction.objects.filter(id=tx.id).update(processing_until=None)
        return False
    return _forward(tx).status != 503


def wallet_resolve_pending(*, older_than_seconds: int | None = None, limit: int = 200) -> int:
    """Settle PENDING transactions older than WALLET_PENDING_RESOLVE_AFTER_SECONDS (beat, every 30 s).
    Returns how many were settled."""
    age = settings.WALLET_PENDING_RESOLVE_AFTER_SECONDS if older_than_seconds is None else older_than_seconds
    now = timezone.now()
    stale = WalletTransaction.objects.filter(
        Q(processing_until__isnull=True) | Q(processing_until__lt=now),
        status=Status.PENDING, is_tombstone=False, created_at__lt=now - timedelta(seconds=age),
    ).order_by("id")[:limit]
    settled = 0
    for tx in stale:
        taken = WalletTransaction.objects.filter(id=tx.id, status=Status.PENDING).filter(
            Q(processing_until__isnull=True) | Q(processing_until__lt=now)
        ).update(processing_until=now + in_flight_lease())
        settled += bool(taken) and _resolve(tx)
    return settled
