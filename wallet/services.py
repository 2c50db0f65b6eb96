"""Debit, credit and rollback: refId dedupe, forwarding to the Operator, settlement.

A transaction row is committed as PENDING before the Operator is called, so an unknown outcome
(timeout, 5xx after retries) leaves a record that a retry or the resolver re-drives with the same
Operator `transaction_id` (the Operator is idempotent on it: money moves at most once). The unique
`ref_id` arbitrates concurrent requests; a short `processing_until` lease lets exactly one of them
drive the Operator call. Settlement, its RGS webhook (outbox) and the stored answer commit together.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from hub import errors, http, metrics
from hub.db import statement_guard
from hub.money import MoneyError, to_major_string, to_minor
from wallet import errors as wallet_errors
from wallet import statements
from wallet.answers import Answer, error_answer, settled_answer
from wallet.contract import MoneyRequest, RollbackRequest
from wallet.idempotency import AnswerUnderKey, in_flight_lease
from wallet.models import WalletRound, WalletTransaction
from wallet.operator_client import OperatorAnswer, OperatorUnavailable, operator_request, operator_wallet_call
from wallet.selectors import round_totals, round_transactions, wallet_round_data, wallet_transaction_data
from webhooks.outbox import outbox_enqueue, outbox_insert, outbox_inserted

Type, Status = WalletTransaction.Type, WalletTransaction.Status
NOT_CHARGED = (Status.FAILED, Status.ROLLED_BACK)  # what the RGS was told of a debit that took no money
ROLLBACK_POLL_SECONDS = 0.05
logger = structlog.get_logger(__name__)
OPERATIONS: dict[str, str] = {Type.DEBIT: "withdraw", Type.CREDIT: "deposit", Type.ROLLBACK: "rollback"}

# Runs inside the settlement's transaction with the answer being stored (the API keeps it under
# the Idempotency-Key there: one commit fewer, and never a settlement whose key answer is missing).
OnSettled = Callable[[Answer], None]


@dataclass(frozen=True)
class WalletResult:
    """A settled transaction. Its answer is `transaction.response_status` / `response_body`."""

    transaction: WalletTransaction
    replayed: bool = False  # settled earlier (a retry of the same refId): its first answer
    answer_stored: bool = False  # `on_settled` already received the answer


@dataclass(frozen=True)
class Outcome:
    status: str
    error: errors.ApplicationError | None = None
    currency: str = ""
    balance_minor: int | None = None
    operator_tx_id: str = ""


# A retry of a refId must be the same call: anything else is DUPLICATE_REF_ID.
SAME_REQUEST_FIELDS = ("type", "player_id", "amount_cents", "currency", "original_ref_id", "round_id", "closes_round",
                       "bet_ref_id", "kind")


def _pending(*, type_: str, ref_id: str, player_id: str, amount_minor: int, currency: str, original_ref_id: str = "",
             **call: Any) -> WalletTransaction:
    """The PENDING row of a new call; `call`: its meta, round_id, closes_round, bet_ref_id, kind."""
    now = timezone.now()
    return WalletTransaction(
        ref_id=ref_id, type=type_, player_id=player_id, amount_cents=amount_minor, currency=currency,
        original_ref_id=original_ref_id, processing_until=now + in_flight_lease(),
        correlation_id=structlog.contextvars.get_contextvars().get("correlation_id", ""), created_at=now, **call,
    )


def _money_pending(type_: str, request: MoneyRequest) -> WalletTransaction:
    return _pending(type_=type_, ref_id=request.ref_id, player_id=request.player_id, amount_minor=request.amount_minor,
                    currency=request.currency, meta=request.meta, round_id=request.round_id,
                    closes_round=request.round_closed, bet_ref_id=request.bet_ref_id, kind=request.kind)


def _supported(currency: str) -> bool:
    return currency in settings.WALLET_SUPPORTED_CURRENCIES


def _require_supported(currency: str) -> None:
    if not _supported(currency):
        raise wallet_errors.UnsupportedCurrency(f"Currency {currency} is not supported.",
                                                details={"supported": settings.WALLET_SUPPORTED_CURRENCIES})


def pending_money_transaction(type_: str, request: MoneyRequest) -> WalletTransaction | None:
    """The PENDING row a debit or credit would claim, for its caller to write together with the request's
    Idempotency-Key (`idempotency_begin(with_row=...)`); None when the request will be refused before, or
    is a credit paying a bet (claimed under its bet's lock)."""
    if not _supported(request.currency) or request.bet_ref_id:
        return None
    return _money_pending(type_, request)


def _claim(new: WalletTransaction) -> WalletTransaction | WalletResult:
    """`new`, the new PENDING transaction to drive, or the settled one its refId already has. A debit or
    credit opens, joins or closes its round here."""
    if statements.new_transaction(new, round_call=new.type != Type.ROLLBACK):
        return new
    return _existing(new)


def _existing(new: WalletTransaction) -> WalletTransaction | WalletResult:
    """The transaction `new.ref_id` already has: its settled answer, or the PENDING row to drive."""
    existing = WalletTransaction.objects.filter(ref_id=new.ref_id).first()
    if existing is None:  # the refId is free: only its round held the row back
        raise _round_refusal(new)
    if existing.is_tombstone and new.type == Type.DEBIT:
        raise wallet_errors.RefIdRolledBack()
    if existing.is_tombstone or any(getattr(existing, name) != getattr(new, name) for name in SAME_REQUEST_FIELDS):
        raise wallet_errors.DuplicateRefId()
    if existing.status != Status.PENDING:
        return WalletResult(existing, replayed=True)
    if not _take_lease(existing.id, timezone.now()):
        raise wallet_errors.RequestInProgress()
    existing.refresh_from_db()
    return existing


def _round_refusal(new: WalletTransaction) -> errors.ApplicationError:
    found = WalletRound.objects.filter(round_id=new.round_id).first()
    if found is None:  # not there a moment ago either: a concurrent writer; the retry finds it
        return wallet_errors.RequestInProgress()
    if (found.player_id, found.currency) != (new.player_id, new.currency):
        return wallet_errors.RoundMismatch()
    return wallet_errors.RoundClosed()


def _take_lease(tx_id: int, now: datetime) -> bool:
    """Become the one process driving this PENDING transaction, unless another one's lease is live."""
    return bool(WalletTransaction.objects.filter(id=tx_id, status=Status.PENDING).filter(
        Q(processing_until__isnull=True) | Q(processing_until__lt=now)
    ).update(processing_until=now + in_flight_lease()))


# --- the three operations ---------------------------------------------------------------
def wallet_debit(*, request: MoneyRequest, on_settled: OnSettled | None = None,
                 written: WalletTransaction | None = None) -> WalletResult:
    """`written`: this request's `pending_money_transaction`, which its caller may have written already."""
    return _money(Type.DEBIT, request, on_settled, written)


def wallet_credit(*, request: MoneyRequest, on_settled: OnSettled | None = None,
                  written: WalletTransaction | None = None) -> WalletResult:
    return _money(Type.CREDIT, request, on_settled, written)


def _money(type_: str, request: MoneyRequest, on_settled: OnSettled | None,
           written: WalletTransaction | None) -> WalletResult:
    _require_supported(request.currency)
    if written is not None and written.pk is not None:  # the usual case: the caller wrote it with the key
        return _forward(written, on_settled)
    new = _money_pending(type_, request)
    claimed = _claim_paying_bet(new) if new.bet_ref_id else _claim(new)
    return claimed if isinstance(claimed, WalletResult) else _forward(claimed, on_settled)


def _claim_paying_bet(new: WalletTransaction) -> WalletTransaction | WalletResult:
    """A credit naming the debit it pays (`betRefId`): written under that debit's row lock, as a rollback
    of the debit is, so that a win never pays a bet that is rolled back. The bet must be the same
    player's, currency's and round's (a credit without a roundId joins its bet's), and charged; one in
    flight is waited for as a rollback waits (then 409 REQUEST_IN_PROGRESS)."""
    first = WalletTransaction.objects.filter(ref_id=new.ref_id).only("bet_ref_id", "round_id").first()
    if first is not None:
        if not new.round_id and first.bet_ref_id == new.bet_ref_id:
            new.round_id = first.round_id  # the first attempt joined its bet's round
        return _existing(new)
    bet = WalletTransaction.objects.filter(ref_id=new.bet_ref_id, type=Type.DEBIT, is_tombstone=False).first()
    if bet is None or (bet.player_id, bet.currency) != (new.player_id, new.currency) or (
            new.round_id and bet.round_id != new.round_id):
        raise wallet_errors.BetNotFound()
    new.round_id = bet.round_id
    if bet.status == Status.PENDING:
        _settled_original(bet, in_progress=wallet_errors.BetInProgress)
    with transaction.atomic():
        bet = WalletTransaction.objects.select_for_update().get(id=bet.id)
        if bet.status != Status.COMPLETED:
            raise wallet_errors.BetNotFound()
        if _rollbacks_of(bet).filter(status=Status.PENDING).exists():
            raise wallet_errors.BetInProgress()
        if statements.new_transaction(new, round_call=True):
            return new
    return _existing(new)


def _rollbacks_of(debit: WalletTransaction) -> QuerySet[WalletTransaction]:
    return WalletTransaction.objects.filter(original_ref_id=debit.ref_id, type=Type.ROLLBACK)


def _credits_paying(debit: WalletTransaction) -> QuerySet[WalletTransaction]:
    return WalletTransaction.objects.filter(bet_ref_id=debit.ref_id, type=Type.CREDIT)


def wallet_rollback(*, request: RollbackRequest, on_settled: OnSettled | None = None) -> WalletResult:
    original = _original_or_tombstone(request)
    if original is not None and original.is_tombstone:
        original = None  # a tombstone holds the refId; there is no debit to refund
    if original is not None and original.status == Status.PENDING:
        original = _settled_original(original)
    if original is not None and (original.type != Type.DEBIT or original.player_id != request.player_id
                                 or original.status == Status.FAILED):
        original = None
    new = _pending(type_=Type.ROLLBACK, ref_id=request.ref_id, player_id=request.player_id,
                   amount_minor=original.amount_cents if original else 0, currency=original.currency if original else "",
                   original_ref_id=request.original_ref_id, round_id=original.round_id if original else "")
    charged = original is not None and original.status == Status.COMPLETED
    claimed = _claim_unpaid(original, new) if original is not None and charged else _claim(new)
    if isinstance(claimed, WalletResult):
        return claimed
    if original is None:
        return _settle(claimed, _failed(wallet_errors.OriginalNotFound()), on_settled)
    if not charged:
        return _settle(claimed, _failed(wallet_errors.AlreadyRolledBack()), on_settled)
    if _credits_paying(original).filter(status=Status.COMPLETED).exists():
        return _settle(claimed, _failed(wallet_errors.BetAlreadyPaid()), on_settled)
    return _forward(claimed, on_settled)


@transaction.atomic
def _claim_unpaid(debit: WalletTransaction, new: WalletTransaction) -> WalletTransaction | WalletResult:
    """A rollback of a charged debit, written under the debit's row lock (see `_claim_paying_bet`); while a
    credit paying the debit is in flight: 409 REQUEST_IN_PROGRESS, and nothing is written."""
    WalletTransaction.objects.select_for_update().filter(id=debit.id).first()
    if _credits_paying(debit).filter(status=Status.PENDING).exists():
        raise wallet_errors.BetInProgress()
    return _claim(new)


def _settled_original(original: WalletTransaction,
                      in_progress: type[wallet_errors.RequestInProgress] = wallet_errors.OriginalInProgress
                      ) -> WalletTransaction:
    """The debit being rolled back (or paid), once its outcome is known (SPEC §3): a rollback never settles
    while its original is in flight, or the Operator could apply the debit after refusing the rollback (404)
    and leave the player charged for a bet the hub calls rolled back. Waits up to
    WALLET_ROLLBACK_WAIT_SECONDS; a debit nobody is driving and old enough for the resolver is resolved
    now. Still PENDING: 409 REQUEST_IN_PROGRESS, and nothing is written."""
    deadline = time.monotonic() + settings.WALLET_ROLLBACK_WAIT_SECONDS
    resolvable_before = timezone.now() - timedelta(seconds=settings.WALLET_PENDING_RESOLVE_AFTER_SECONDS)
    while True:
        now = timezone.now()
        if (original.created_at < resolvable_before and original.type == Type.DEBIT
                and _take_lease(original.id, now)):
            _resolve(original)
        original.refresh_from_db()
        if original.status != Status.PENDING:
            return original
        if time.monotonic() >= deadline:
            raise in_progress()
        time.sleep(ROLLBACK_POLL_SECONDS)


def _original_or_tombstone(request: RollbackRequest) -> WalletTransaction | None:
    """The debit being rolled back. If the hub never saw it, a tombstone keeps its refId so the
    debit is refused if it arrives later (a timed-out bet must never charge afterwards)."""
    original = WalletTransaction.objects.filter(ref_id=request.original_ref_id).first()
    if original is not None:
        return original
    refused = error_answer(wallet_errors.RefIdRolledBack())
    try:
        with statement_guard():
            WalletTransaction.objects.create(
                ref_id=request.original_ref_id, type=Type.DEBIT, player_id=request.player_id, amount_cents=0,
                status=Status.ROLLED_BACK, is_tombstone=True, response_status=refused.status,
                response_body=refused.body, settled_at=timezone.now(),
            )
    except IntegrityError:  # the debit itself arrived meanwhile
        return WalletTransaction.objects.get(ref_id=request.original_ref_id)
    return None


# --- Operator call and settlement ----------------------------------------------------------
def _operator_payload(tx: WalletTransaction) -> dict[str, Any]:
    if tx.type == Type.ROLLBACK:
        return {"transaction_id": tx.ref_id, "original_transaction_id": tx.original_ref_id, "player_id": tx.player_id}
    return {"player_id": tx.player_id, "amount": to_major_string(tx.amount_cents, tx.currency), "currency": tx.currency,
            "transaction_id": tx.ref_id}


def _forward(tx: WalletTransaction, on_settled: OnSettled | None = None) -> WalletResult:
    """Ask the Operator and settle; when it does not answer, the transaction stays PENDING."""
    try:
        answer = operator_wallet_call(OPERATIONS[tx.type], _operator_payload(tx))
    except OperatorUnavailable as exc:
        WalletTransaction.objects.filter(id=tx.id).update(processing_until=None)
        raise wallet_errors.OperatorNotAnswering(retry_after_seconds=exc.retry_after_seconds) from None
    outcome = _outcome(tx, answer)
    if tx.is_compensation and not _compensation_final(outcome):
        # retried until the Operator confirms (the resolver's next run): a refund is owed
        WalletTransaction.objects.filter(id=tx.id).update(processing_until=None, error_code=outcome.error.code
                                                          if outcome.error else "")
        return WalletResult(tx)
    return _settle(tx, outcome, on_settled)


def _compensation_final(outcome: Outcome) -> bool:
    """Refunded (200), refunded before (409) or never charged (404): nothing is owed any more."""
    return outcome.status == Status.COMPLETED or isinstance(
        outcome.error, wallet_errors.AlreadyRolledBack | wallet_errors.OriginalNotFound)


def _failed(error: errors.ApplicationError) -> Outcome:
    return Outcome(Status.FAILED, error)


def _outcome(tx: WalletTransaction, answer: OperatorAnswer) -> Outcome:
    error = answer.body.get("error")
    currency = tx.currency or answer.body.get("currency", "")
    if answer.status_code == 200:
        operator_tx_id = answer.body.get("operator_tx_id", "")
        return Outcome(Status.COMPLETED, currency=currency, balance_minor=_balance(answer, currency),
                       operator_tx_id=operator_tx_id[:100] if isinstance(operator_tx_id, str) else "")
    if answer.status_code == 402 and error == "insufficient_funds":
        return _failed(wallet_errors.InsufficientFunds(details={"balanceCents": _balance(answer, currency)}))
    if answer.status_code == 404 and error == "player_not_found":
        return _failed(wallet_errors.PlayerNotFound())
    if answer.status_code == 404 and error == "original_not_found":
        return _failed(wallet_errors.OriginalNotFound("The Operator has no such debit for this player."))
    if answer.status_code == 409 and error == "already_rolled_back":
        return _failed(wallet_errors.AlreadyRolledBack())
    return _failed(wallet_errors.OperatorRejected(details={"operatorStatus": answer.status_code,
                                                           "operatorError": error}))


def _balance(answer: OperatorAnswer, currency: str) -> int | None:
    """The balance the Operator reported, or None when it sent none the hub can read (the money moved
    or not by its status code all the same)."""
    balance = answer.body.get("balance")
    if isinstance(balance, bool) or not isinstance(balance, str | int | Decimal):
        return None
    try:
        return to_minor(balance, currency)
    except MoneyError:
        return None


def _settle(tx: WalletTransaction, outcome: Outcome, on_settled: OnSettled | None = None) -> WalletResult:
    answer = settled_answer(tx, error=outcome.error, currency=outcome.currency, balance_minor=outcome.balance_minor)
    settlement = {
        "status": outcome.status, "error_code": outcome.error.code if outcome.error else "",
        "balance_cents": outcome.balance_minor, "operator_tx_id": outcome.operator_tx_id,
        "response_status": answer.status, "response_body": answer.body, "settled_at": timezone.now(),
        "processing_until": None,
    }
    if tx.type != Type.ROLLBACK and isinstance(on_settled, AnswerUnderKey):
        return _settle_in_one_statement(tx, outcome, settlement, answer_key=on_settled)
    return _settle_in_transaction(tx, outcome, answer, settlement, on_settled)


def _webhook(tx: WalletTransaction, outcome: Outcome) -> dict[str, Any]:
    return {"destination": "rgs", "data": wallet_transaction_data(tx), "ordering_key": f"player:{tx.player_id}",
            "correlation_id": tx.correlation_id,
            "event_type": "wallet.transaction.completed" if outcome.status == Status.COMPLETED
            else "wallet.transaction.failed"}


def _settle_in_one_statement(tx: WalletTransaction, outcome: Outcome, settlement: dict[str, Any], *,
                             answer_key: AnswerUnderKey) -> WalletResult:
    """The settlement, the answer under its key and the webhook in one statement, which commits on its
    own (`wallet.statements`): the same all-or-nothing as the transaction below, in one round trip
    instead of five."""
    for name, value in settlement.items():  # the row as it will be written: the webhook describes it
        setattr(tx, name, value)
    message = outbox_insert(**_webhook(tx, outcome))
    message_id = statements.settle_answer_and_enqueue(tx.id, settlement, key_id=answer_key.record_id, message=message)
    if message_id is None:  # a concurrent retry or the resolver settled it first: give its answer
        return _settled_first(tx, outcome)
    outbox_inserted(message_id)
    return WalletResult(tx, answer_stored=True)


@transaction.atomic
def _settle_in_transaction(tx: WalletTransaction, outcome: Outcome, answer: Answer, settlement: dict[str, Any],
                           on_settled: OnSettled | None) -> WalletResult:
    if not statements.settle(tx.id, settlement):  # a concurrent retry or the resolver settled it first: give its answer
        return _settled_first(tx, outcome)
    for name, value in settlement.items():  # the row as just written, without reading it back
        setattr(tx, name, value)
    if tx.type == Type.ROLLBACK:
        _mark_original_rolled_back(tx, outcome)
    outbox_enqueue(**_webhook(tx, outcome))
    if on_settled:
        on_settled(answer)
    return WalletResult(tx, answer_stored=on_settled is not None)


def _settled_first(tx: WalletTransaction, outcome: Outcome) -> WalletResult:
    """Someone settled `tx` before this answer arrived (a concurrent retry, the resolver): give their
    answer. If this answer says the Operator took a debit's money and theirs said it did not, the hub
    refunds it (`wallet_compensate`): the RGS was told the bet took nothing."""
    settled = WalletTransaction.objects.get(id=tx.id)
    if tx.type == Type.DEBIT and outcome.status == Status.COMPLETED and settled.status in NOT_CHARGED:
        wallet_compensate(debit=settled, reason="late_answer")
    return WalletResult(settled, replayed=True)


def _mark_original_rolled_back(rollback: WalletTransaction, outcome: Outcome) -> None:
    """A completed rollback cancels its debit. A compensation's debit was settled as not charged
    (FAILED): once the Operator has refunded it, now or before (409), it moved and came back, which
    is what the Operator's listing says too. A rollback never touches a PENDING debit (it waits)."""
    original = WalletTransaction.objects.filter(ref_id=rollback.original_ref_id, type=Type.DEBIT)
    refunded = outcome.status == Status.COMPLETED or (
        rollback.is_compensation and isinstance(outcome.error, wallet_errors.AlreadyRolledBack))
    if refunded:
        original.filter(status__in=(Status.COMPLETED, Status.FAILED)).update(status=Status.ROLLED_BACK)


# --- compensation --------------------------------------------------------------------------
def compensation_ref_id(debit: WalletTransaction) -> str:
    return f"compensation-{debit.transaction_id.hex}"


def wallet_compensate(*, debit: WalletTransaction, reason: str) -> WalletTransaction | None:
    """Refund a debit the Operator applied after the hub settled it as not charged (SPEC §3): a durable
    ROLLBACK row of the hub's own, sent now (after commit) and re-sent by the resolver until the
    Operator confirms. One per debit, however often the hub learns it; None when it exists already."""
    compensation = WalletTransaction(
        ref_id=compensation_ref_id(debit), type=Type.ROLLBACK, player_id=debit.player_id,
        amount_cents=debit.amount_cents, currency=debit.currency, original_ref_id=debit.ref_id,
        is_compensation=True, correlation_id=debit.correlation_id, meta={"reason": reason},
    )
    if not statements.new_transaction(compensation):
        return None
    metrics.WALLET_COMPENSATIONS.labels(reason).inc()
    logger.warning("wallet_compensation_started", ref_id=debit.ref_id, reason=reason)
    transaction.on_commit(lambda: _send_compensation(compensation.id))
    return compensation


def _send_compensation(tx_id: int) -> None:
    from wallet.tasks import send_compensation  # tasks import this module

    try:
        send_compensation.delay(tx_id)
    except Exception:  # the broker is down: the resolver sends it on its next run
        logger.warning("wallet_compensation_not_queued", tx_id=tx_id)


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
        status = operator_request("GET", f"/api/v1/wallet/transactions/{http.segment(tx.ref_id)}")
    except OperatorUnavailable:
        WalletTransaction.objects.filter(id=tx.id).update(processing_until=None)
        return False
    if status.status_code == 404 and tx.type == Type.DEBIT:
        _settle(tx, _failed(wallet_errors.OperatorRejected(
            "The Operator never applied this debit; it was not charged.",
            details={"reason": "not_applied_before_resolution"})))
        return True
    if status.status_code not in (200, 404):
        WalletTransaction.objects.filter(id=tx.id).update(processing_until=None)
        return False
    try:
        return _forward(tx).transaction.status != Status.PENDING  # a compensation stays PENDING when refused
    except wallet_errors.OperatorNotAnswering:
        return False


def wallet_resolve_pending(*, older_than_seconds: int | None = None, limit: int = 200,
                           only_ids: list[int] | None = None) -> int:
    """Settle PENDING transactions older than WALLET_PENDING_RESOLVE_AFTER_SECONDS (beat, every 30 s),
    or these ones (`only_ids`, the admin's "resolve now"). Returns how many were settled."""
    age = settings.WALLET_PENDING_RESOLVE_AFTER_SECONDS if older_than_seconds is None else older_than_seconds
    now = timezone.now()
    stale = WalletTransaction.objects.filter(
        Q(processing_until__isnull=True) | Q(processing_until__lt=now),
        status=Status.PENDING, is_tombstone=False, created_at__lt=now - timedelta(seconds=age),
    ).order_by("id")
    if only_ids is not None:
        stale = stale.filter(id__in=only_ids)
    stale = stale[:limit]
    settled = 0
    for tx in stale:
        settled += _take_lease(tx.id, now) and _resolve(tx)
    return settled


def wallet_balance(*, player_id: str, currency: str) -> int:
    """The player's balance in minor units, asked of the Operator every time: a stale balance shown before
    a bet is worse than none, so nothing is cached."""
    _require_supported(currency)
    try:
        answer = operator_request("GET", f"/api/v1/wallet/balance/{http.segment(player_id)}?"
                                         f"{urlencode({'currency': currency})}")
    except OperatorUnavailable as exc:
        raise wallet_errors.BalanceUnavailable(retry_after_seconds=exc.retry_after_seconds) from None
    error = answer.body.get("error")
    if answer.status_code == 404 and error == "player_not_found":
        raise wallet_errors.PlayerNotFound()
    if answer.status_code == 400 and error == "currency_mismatch":
        raise wallet_errors.CurrencyMismatch(details={"playerCurrency": answer.body.get("currency")})
    balance = _balance(answer, currency) if answer.status_code == 200 else None
    if balance is None:
        raise wallet_errors.OperatorRejected(details={"operatorStatus": answer.status_code, "operatorError": error})
    return balance


def wallet_close_idle_rounds(*, limit: int = 500) -> int:
    """Close the rounds nobody has called for WALLET_ROUND_AUTOCLOSE_HOURS (beat) and tell the RGS of each
    (`wallet.round.closed`, in the same transaction). A call racing the closing waits for its round's row
    and is then refused (409 ROUND_CLOSED); a round a call holds is skipped until the next run."""
    now = timezone.now()
    idle_before = now - timedelta(hours=settings.WALLET_ROUND_AUTOCLOSE_HOURS)
    with transaction.atomic():
        idle = list(WalletRound.objects.select_for_update(skip_locked=True).filter(
            status=WalletRound.Status.OPEN, last_call_at__lt=idle_before).order_by("id")[:limit])
        WalletRound.objects.filter(id__in=[found.id for found in idle]).update(
            status=WalletRound.Status.AUTO_CLOSED, closed_at=now)
        for found in idle:
            found.status, found.closed_at = WalletRound.Status.AUTO_CLOSED, now
            outbox_enqueue(destination="rgs", event_type="wallet.round.closed", ordering_key=f"player:{found.player_id}",
                           data={**wallet_round_data(found), "totals": round_totals(round_transactions(found.round_id))})
    if idle:
        logger.info("wallet_rounds_auto_closed", count=len(idle))
    return len(idle)
