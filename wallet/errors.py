"""The wallet's refusals, in the one error family of `hub.errors` (SPEC §3's codes)."""

from hub import errors


class RefIdAnswered(errors.Conflict):
    """A refId whose answer is final: kept under the Idempotency-Key like a settlement."""


class DuplicateRefId(RefIdAnswered):
    code = "DUPLICATE_REF_ID"
    message = "This refId was already used for a different request."


class RefIdRolledBack(RefIdAnswered):
    code = "ALREADY_ROLLED_BACK"
    message = "This refId was rolled back; the debit is refused."


class AlreadyRolledBack(errors.Conflict):
    code = "ALREADY_ROLLED_BACK"
    message = "The original debit was already rolled back."


class RequestInProgress(errors.Conflict):
    code = "REQUEST_IN_PROGRESS"
    message = "A request for this refId is in progress."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": "1"})


class OriginalInProgress(RequestInProgress):
    """Not kept under the key: the rollback is answered once its debit has settled."""

    message = "The debit being rolled back is still in progress; retry the rollback."


class UnsupportedCurrency(errors.Unprocessable):
    code = "UNSUPPORTED_CURRENCY"


class InsufficientFunds(errors.ApplicationError):
    status_code = 402
    code = "INSUFFICIENT_FUNDS"
    message = "Insufficient funds."


class PlayerNotFound(errors.NotFound):
    code = "PLAYER_NOT_FOUND"
    message = "Unknown player."


class OriginalNotFound(errors.NotFound):
    code = "ORIGINAL_NOT_FOUND"
    message = "No completed debit with originalRefId for this player."


class OperatorRejected(errors.ApplicationError):
    status_code = 502
    code = "OPERATOR_REJECTED"
    message = "The Operator rejected the request."


class OperatorNotAnswering(errors.ServiceUnavailable):
    """The outcome is unknown: the transaction stays PENDING for a retry or the resolver."""

    code = "OPERATOR_UNAVAILABLE"
    message = "The Operator did not answer; retry with the same Idempotency-Key."

    def __init__(self, *, retry_after_seconds: int) -> None:
        super().__init__(headers={"Retry-After": str(retry_after_seconds)})


class CurrencyMismatch(errors.Conflict):
    code = "CURRENCY_MISMATCH"
    message = "The player's wallet is in another currency."


class BalanceUnavailable(OperatorNotAnswering):
    """The balance read got no answer: nothing is pending, the caller asks again."""

    message = "The Operator did not answer; ask again."


class RoundClosed(RefIdAnswered):
    code = "ROUND_CLOSED"
    message = "This round is closed; a call in it is refused."


class RoundMismatch(RefIdAnswered):
    code = "ROUND_MISMATCH"
    message = "This roundId belongs to another player or currency."


class BetNotFound(RefIdAnswered):
    code = "BET_NOT_FOUND"
    message = "No charged debit with betRefId for this player, currency and round (unknown, refused or rolled back)."


class BetAlreadyPaid(RefIdAnswered):
    code = "BET_ALREADY_PAID"
    message = "A credit has paid this debit; it cannot be rolled back."


class BetInProgress(RequestInProgress):
    """Not kept under the key: a rollback of this bet, or a credit paying it, is still in flight."""

    message = "A rollback of this bet, or a credit paying it, is still in progress; retry."
