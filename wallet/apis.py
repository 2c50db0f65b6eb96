"""The RGS-facing wallet API (SPEC §3). Thin: checks in the contract's order, then a service."""

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema_view
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from hub import errors, metrics
from hub.json_input import NotJson, TooDeep, load_json
from hub.signing import secret_list, wallet_signature_valid
from wallet import idempotency, openapi
from wallet.models import WalletTransaction
from wallet.selectors import wallet_transaction_view
from wallet.services import WalletResponse, error_response, to_json, wallet_money, wallet_rollback

# Keys are scoped to the calling client; the wallet API has one client today, the RGS that
# holds WALLET_HMAC_SECRET (several secrets are one client's rotation, not several clients).
CLIENT_ID = "rgs"


def authenticate(request: HttpRequest, body: bytes) -> None:
    """One 401 for every reason: missing, stale or future timestamp, wrong signature."""
    secrets = secret_list(settings.WALLET_HMAC_SECRET)
    if not wallet_signature_valid(
        body=body, timestamp=request.headers.get("X-Timestamp"), signature=request.headers.get("X-Signature"),
        secrets=secrets, tolerance_seconds=settings.WALLET_SIGNATURE_TOLERANCE_SECONDS,
    ):
        raise errors.Unauthorized()


def http_response(answer: WalletResponse, operation: str) -> HttpResponse:
    response = HttpResponse(answer.body.encode(), status=answer.status, content_type="application/json")
    for name, value in answer.headers.items():
        response[name] = value
    if answer.replayed:
        response["Idempotent-Replayed"] = "true"
    code = json.loads(answer.body).get("status", "") if answer.body else ""
    metrics.WALLET_OUTCOMES.labels(operation, code, str(answer.replayed).lower()).inc()
    return response


class WalletOperationApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    operation = ""

    def post(self, request: Request) -> HttpResponse:
        body = request._request.body  # the raw bytes, exactly as signed
        authenticate(request._request, body)
        key = idempotency.parse_idempotency_key(request.headers.get("Idempotency-Key"))
        fingerprint = idempotency.request_fingerprint(method="POST", path=request.path, body=body)
        begun = idempotency.idempotency_begin(client_id=CLIENT_ID, key=key, fingerprint=fingerprint)
        if isinstance(begun, idempotency.Replay):
            return http_response(WalletResponse(begun.status, begun.body, replayed=True), self.operation)
        if isinstance(begun, idempotency.InFlight):
            raise errors.Conflict("The first request with this key is still in progress.", code="REQUEST_IN_PROGRESS",
                                  headers={"Retry-After": "1"})
        if isinstance(begun, idempotency.Reused):
            raise errors.Unprocessable("This Idempotency-Key was used with a different request.",
                                       code="IDEMPOTENCY_KEY_REUSED")
        def store_answer(status: int, answer_body: str) -> None:
            idempotency.idempotency_complete(record_id=begun.record_id, status=status, body=answer_body)

        try:
            answer = self.execute(body, store_answer)
        except BaseException:
            idempotency.idempotency_release(record_id=begun.record_id)
            raise
        if not answer.store:
            idempotency.idempotency_release(record_id=begun.record_id)
        elif not answer.settled_with_answer:  # replays and refusals that settled nothing
            idempotency.idempotency_complete(record_id=begun.record_id, status=answer.status, body=answer.body)
        return http_response(answer, self.operation)

    def execute(self, body: bytes, on_settled) -> WalletResponse:
        try:
            payload = load_json(body, replace_unstorable=False)
        except (NotJson, TooDeep):
            return error_response(400, "VALIDATION_ERROR", "The request body is not valid JSON.",
                                  details={"body": ["Malformed JSON."]}, store=False)
        if self.operation == "rollback":
            return wallet_rollback(payload=payload, on_settled=on_settled)
        return wallet_money(type_=WalletTransaction.Type[self.operation.upper()], payload=payload, on_settled=on_settled)


@extend_schema_view(post=openapi.wallet_operation("debit"))
class DebitApi(WalletOperationApi):
    operation = "debit"


@extend_schema_view(post=openapi.wallet_operation("credit"))
class CreditApi(WalletOperationApi):
    operation = "credit"


@extend_schema_view(post=openapi.wallet_operation("rollback"))
class RollbackApi(WalletOperationApi):
    operation = "rollback"


class TransactionApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @openapi.wallet_transaction
    def get(self, request: Request, ref_id: str) -> HttpResponse:
        authenticate(request._request, b"")
        view = wallet_transaction_view(ref_id=ref_id)
        if view is None:
            raise errors.NotFound("No transaction with this refId.", code="TRANSACTION_NOT_FOUND")
        return HttpResponse(to_json(view).encode(), content_type="application/json")
