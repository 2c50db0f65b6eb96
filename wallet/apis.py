"""The RGS-facing wallet API (SPEC §3). Thin: checks in the contract's order, then a service."""

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema_view
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from hub import errors
from hub.json_input import NotJson, TooDeep, load_json
from hub.signing import secret_list, wallet_signature_valid
from wallet import idempotency, openapi
from wallet.answers import Answer, error_answer, http_response, replayed_answer, transaction_response
from wallet.contract import MoneyRequest, RollbackRequest, validate_money_request, validate_rollback_request
from wallet.errors import RefIdAnswered
from wallet.selectors import wallet_transaction_view
from wallet.services import OnSettled, WalletResult, wallet_credit, wallet_debit, wallet_rollback

# Keys are scoped to the calling client; the wallet API has one client today, the RGS that
# holds WALLET_HMAC_SECRET (several secrets are one client's rotation, not several clients).
CLIENT_ID = "rgs"
Request_ = TypeVar("Request_", MoneyRequest, RollbackRequest)


def authenticate(headers: Mapping[str, str], body: bytes) -> None:
    """One 401 for every reason: missing, stale or future timestamp, wrong signature."""
    secrets = secret_list(settings.WALLET_HMAC_SECRET)
    if not wallet_signature_valid(
        body=body, timestamp=headers.get("X-Timestamp"), signature=headers.get("X-Signature"),
        secrets=secrets, tolerance_seconds=settings.WALLET_SIGNATURE_TOLERANCE_SECONDS,
    ):
        raise errors.Unauthorized()


def _payload(body: bytes) -> Any:
    try:
        return load_json(body, replace_unstorable=False)
    except (NotJson, TooDeep):
        raise errors.ValidationFailed("The request body is not valid JSON.", details={"body": ["Malformed JSON."]}) from None


def _valid(checked: tuple[Request_ | None, dict[str, list[str]]]) -> Request_:
    request, problems = checked
    if request is None:
        raise errors.ValidationFailed(details=problems)
    return request


def debit(payload: Any, on_settled: OnSettled) -> WalletResult:
    return wallet_debit(request=_valid(validate_money_request(payload)), on_settled=on_settled)


def credit(payload: Any, on_settled: OnSettled) -> WalletResult:
    return wallet_credit(request=_valid(validate_money_request(payload)), on_settled=on_settled)


def rollback(payload: Any, on_settled: OnSettled) -> WalletResult:
    return wallet_rollback(request=_valid(validate_rollback_request(payload)), on_settled=on_settled)


class WalletOperationApi(APIView):
    """Signature, then the Idempotency-Key, then the service; each answer is kept under the key
    unless it is transient (invalid body, request in progress, Operator not answering)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    operation = ""
    service: Callable[[Any, OnSettled], WalletResult]

    def post(self, request: Request) -> HttpResponse:
        body = request.body  # the raw bytes, exactly as signed
        authenticate(request.headers, body)
        key = idempotency.parse_idempotency_key(request.headers.get("Idempotency-Key"))
        fingerprint = idempotency.request_fingerprint(method="POST", path=request.path, body=body)
        begun = idempotency.idempotency_begin(client_id=CLIENT_ID, key=key, fingerprint=fingerprint)
        if isinstance(begun, idempotency.Replay):
            return http_response(replayed_answer(status=begun.status, body=begun.body), operation=self.operation)
        if isinstance(begun, idempotency.InFlight):
            raise errors.Conflict("The first request with this key is still in progress.", code="REQUEST_IN_PROGRESS",
                                  headers={"Retry-After": "1"})
        if isinstance(begun, idempotency.Reused):
            raise errors.Unprocessable("This Idempotency-Key was used with a different request.",
                                       code="IDEMPOTENCY_KEY_REUSED")
        return http_response(self._answer(begun.record_id, body), operation=self.operation)

    def _answer(self, record_id: int, body: bytes) -> Answer:
        store_answer = idempotency.AnswerUnderKey(record_id)
        try:
            result = self.service(_payload(body), store_answer)
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
    service = staticmethod(debit)


@extend_schema_view(post=openapi.wallet_operation("credit"))
class CreditApi(WalletOperationApi):
    operation = "credit"
    service = staticmethod(credit)


@extend_schema_view(post=openapi.wallet_operation("rollback"))
class RollbackApi(WalletOperationApi):
    operation = "rollback"
    service = staticmethod(rollback)


class TransactionApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @openapi.wallet_transaction
    def get(self, request: Request, ref_id: str) -> HttpResponse:
        authenticate(request.headers, b"")
        view = wallet_transaction_view(ref_id=ref_id)
        if view is None:
            raise errors.NotFound("No transaction with this refId.", code="TRANSACTION_NOT_FOUND")
        return transaction_response(view)
