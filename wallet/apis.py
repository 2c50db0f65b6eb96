"""The RGS-facing wallet API (SPEC §3). Thin: checks in the contract's order, then a service."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.utils import extend_schema_view

from hub import errors
from hub.json_input import NotJson, TooDeep, load_json
from hub.machine_api import MachineApi
from hub.signing import secret_list, wallet_signature_valid
from wallet import idempotency, openapi
from wallet.answers import Answer, error_answer, http_response, replayed_answer, transaction_response
from wallet.contract import (MoneyRequest, RollbackRequest, validate_balance_query, validate_credit_request,
                             validate_debit_request, validate_rollback_request)
from wallet.errors import RefIdAnswered
from wallet.models import WalletTransaction
from wallet.selectors import wallet_round_view, wallet_transaction_view
from wallet.services import (OnSettled, WalletResult, pending_money_transaction, wallet_balance, wallet_credit,
                             wallet_debit, wallet_rollback)

# Keys are scoped to the calling client; the wallet API has one client today, the RGS that
# holds WALLET_HMAC_SECRET (several secrets are one client's rotation, not several clients).
CLIENT_ID = "rgs"


def authenticate(headers: Mapping[str, str], body: bytes) -> None:
    """One 401 for every reason: missing, stale or future timestamp, wrong signature."""
    secrets = secret_list(settings.WALLET_HMAC_SECRET)
    if not wallet_signature_valid(
        body=body, timestamp=headers.get("X-Timestamp"), signature=headers.get("X-Signature"),
        secrets=secrets, tolerance_seconds=settings.WALLET_SIGNATURE_TOLERANCE_SECONDS,
    ):
        raise errors.Unauthorized()


def signed_target(request: HttpRequest) -> bytes:
    """What a GET's signature covers in place of a body: its request target exactly as sent, path and query
    (gunicorn keeps it in RAW_URI; elsewhere Django's rebuilt one), so a captured signed GET reads nothing
    but what it asked for."""
    return (request.META.get("RAW_URI") or request.get_full_path()).encode("latin-1", "replace")


def _payload(body: bytes) -> Any:
    try:
        return load_json(body, replace_unstorable=False)
    except (NotJson, TooDeep):
        raise errors.ValidationFailed("The request body is not valid JSON.", details={"body": ["Malformed JSON."]}) from None


@dataclass(frozen=True)
class Checked:
    """A body checked before its Idempotency-Key is looked at. Its refusal is given after the key's
    answers (a replay, a request in progress, a reused key), as the contract orders them."""

    request: Any = None  # MoneyRequest | RollbackRequest
    refusal: errors.ApplicationError | None = None


def _checked(body: bytes, validate: Callable[[Any], tuple[Any, dict[str, list[str]]]]) -> Checked:
    try:
        request, problems = validate(_payload(body))
    except errors.ValidationFailed as refusal:
        return Checked(refusal=refusal)
    return Checked(request=request) if request is not None else Checked(refusal=errors.ValidationFailed(details=problems))


def debit(request: MoneyRequest, on_settled: OnSettled, written: WalletTransaction | None) -> WalletResult:
    return wallet_debit(request=request, on_settled=on_settled, written=written)


def credit(request: MoneyRequest, on_settled: OnSettled, written: WalletTransaction | None) -> WalletResult:
    return wallet_credit(request=request, on_settled=on_settled, written=written)


def rollback(request: RollbackRequest, on_settled: OnSettled, written: WalletTransaction | None) -> WalletResult:
    return wallet_rollback(request=request, on_settled=on_settled)


class WalletOperationApi(MachineApi):
    """Signature, then the Idempotency-Key, then the service; each answer is kept under the key
    unless it is transient (invalid body, request in progress, Operator not answering). A debit's or
    credit's PENDING row is written with a new key, in one statement (`idempotency_begin(with_row=...)`)."""

    operation = ""
    validate: Callable[[Any], tuple[Any, dict[str, list[str]]]]
    service: Callable[[Any, OnSettled, WalletTransaction | None], WalletResult]
    transaction_type: str | None = None  # a debit's or credit's, whose PENDING row goes with the key

    def post(self, request: HttpRequest) -> HttpResponse:
        body = request.body  # the raw bytes, exactly as signed
        authenticate(request.headers, body)
        key = idempotency.parse_idempotency_key(request.headers.get("Idempotency-Key"))
        fingerprint = idempotency.request_fingerprint(method="POST", path=request.path, body=body)
        checked = _checked(body, self.validate)
        written = (pending_money_transaction(self.transaction_type, checked.request)
                   if self.transaction_type and checked.request is not None else None)
        begun = idempotency.idempotency_begin(client_id=CLIENT_ID, key=key, fingerprint=fingerprint, with_row=written)
        if isinstance(begun, idempotency.Replay):
            return http_response(replayed_answer(status=begun.status, body=begun.body), operation=self.operation)
        if isinstance(begun, idempotency.InFlight):
            raise errors.Conflict("The first request with this key is still in progress.", code="REQUEST_IN_PROGRESS",
                                  headers={"Retry-After": "1"})
        if isinstance(begun, idempotency.Reused):
            raise errors.Unprocessable("This Idempotency-Key was used with a different request.",
                                       code="IDEMPOTENCY_KEY_REUSED")
        return http_response(self._answer(begun.record_id, checked, written), operation=self.operation)

    def _answer(self, record_id: int, checked: Checked, written: WalletTransaction | None) -> Answer:
        store_answer = idempotency.AnswerUnderKey(record_id)
        try:
            if checked.refusal is not None:
                raise checked.refusal
            result = self.service(checked.request, store_answer, written)
        except RefIdAnswered as refusal:
            answer = error_answer(refusal)
            store_answer(answer)
            return answer
        except errors.ApplicationError as refusal:
            idempotency.idempotency_release(record_id=record_id)
            return error_answer(refusal)
        except BaseException:
            idempotency.idempotency_release(record_id=record_id)
            raise
        tx = result.transaction
        answer = Answer(tx.response_status or 0, tx.response_body, replayed=result.replayed)  # settled: both set
        if not result.answer_stored:  # a refId settled earlier: its answer, under this key too
            store_answer(answer)
        return answer


@extend_schema_view(post=openapi.wallet_operation("debit"))
class DebitApi(WalletOperationApi):
    operation = "debit"
    validate = staticmethod(validate_debit_request)
    service = staticmethod(debit)
    transaction_type = WalletTransaction.Type.DEBIT


@extend_schema_view(post=openapi.wallet_operation("credit"))
class CreditApi(WalletOperationApi):
    operation = "credit"
    validate = staticmethod(validate_credit_request)
    service = staticmethod(credit)
    transaction_type = WalletTransaction.Type.CREDIT


@extend_schema_view(post=openapi.wallet_operation("rollback"))
class RollbackApi(WalletOperationApi):
    operation = "rollback"
    validate = staticmethod(validate_rollback_request)
    service = staticmethod(rollback)


class BalanceApi(MachineApi):
    """GET /wallet/balance?playerId=…&currency=…: signed over its request target (`signed_target`)."""

    @openapi.wallet_balance
    def get(self, request: HttpRequest) -> HttpResponse:
        authenticate(request.headers, signed_target(request))
        query, problems = validate_balance_query(request.GET.dict())
        if query is None:
            raise errors.ValidationFailed(details=problems)
        balance = wallet_balance(player_id=query.player_id, currency=query.currency)
        return JsonResponse({"status": "OK", "playerId": query.player_id, "currency": query.currency,
                             "balanceCents": balance})


class SignedLookupApi(MachineApi):
    """GET one record by its id, signed over its request target (`signed_target`); 404 when there is none."""

    lookup: Callable[..., dict[str, Any] | None]
    not_found: Callable[[], errors.ApplicationError]

    def get(self, request: HttpRequest, **ids: str) -> HttpResponse:
        authenticate(request.headers, signed_target(request))
        view = self.lookup(**ids)
        if view is None:
            raise self.not_found()
        return transaction_response(view)


@extend_schema_view(get=openapi.wallet_round)
class RoundApi(SignedLookupApi):
    lookup = staticmethod(wallet_round_view)
    not_found = staticmethod(lambda: errors.NotFound("No round with this roundId.", code="ROUND_NOT_FOUND"))


@extend_schema_view(get=openapi.wallet_transaction)
class TransactionApi(SignedLookupApi):
    lookup = staticmethod(wallet_transaction_view)
    not_found = staticmethod(lambda: errors.NotFound("No transaction with this refId.", code="TRANSACTION_NOT_FOUND"))
