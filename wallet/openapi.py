"""The wallet contract (SPEC §3) in the OpenAPI schema. Request bodies come from `wallet.contract`, the
declaration validation uses too; the views read raw bytes, so these serializers only document."""

from typing import Literal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers

from hub.openapi import error
from wallet.contract import CREDIT_BODY, CREDIT_KINDS, DEBIT_BODY, MAX_AMOUNT_MINOR, MAX_ID_LENGTH, ROLLBACK_BODY, BodyField, Kind

HEADER: Literal["header"] = "header"
SIGNED = [
    OpenApiParameter("X-Timestamp", OpenApiTypes.STR, HEADER, required=True,
                     description="Unix seconds; refused beyond ±WALLET_SIGNATURE_TOLERANCE_SECONDS (300)."),
    OpenApiParameter("X-Signature", OpenApiTypes.STR, HEADER, required=True,
                     description="Lowercase hex HMAC-SHA256 (WALLET_HMAC_SECRET) of the raw body followed by X-Timestamp."),
    OpenApiParameter("X-Correlation-ID", OpenApiTypes.STR, HEADER, required=False,
                     description="Echoed, logged, passed to the Operator and to webhooks."),
]
IDEMPOTENCY_KEY = OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, HEADER, required=True,
                                   description="1–255 printable ASCII; a quoted sf-string is accepted.")


def _serializer_field(field: BodyField) -> serializers.Field:
    required, help_text = field.required, field.help or None
    if field.kind is Kind.AMOUNT:
        return serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT_MINOR, required=required, help_text=help_text)
    if field.kind is Kind.CURRENCY:
        return serializers.CharField(min_length=3, max_length=3, required=required, help_text=help_text)
    if field.kind is Kind.OBJECT:
        return serializers.DictField(allow_null=True, required=required, help_text=help_text)
    if field.kind is Kind.BOOLEAN:
        return serializers.BooleanField(required=required, help_text=help_text)
    if field.kind is Kind.CHOICE:
        return serializers.ChoiceField(field.choices, required=required, help_text=help_text)
    return serializers.CharField(min_length=1, max_length=MAX_ID_LENGTH, required=required, help_text=help_text)


def _request_body(name: str, body: tuple[BodyField, ...]) -> serializers.Serializer:
    return inline_serializer(name, {field.name: _serializer_field(field) for field in body})


DEBIT_REQUEST = _request_body("WalletDebitRequest", DEBIT_BODY)
CREDIT_REQUEST = _request_body("WalletCreditRequest", CREDIT_BODY)
ROLLBACK_REQUEST = _request_body("WalletRollbackRequest", ROLLBACK_BODY)
SUCCESS = inline_serializer("WalletSuccess", {
    "status": serializers.CharField(default="OK"), "transactionId": serializers.UUIDField(),
    "refId": serializers.CharField(), "type": serializers.ChoiceField(["DEBIT", "CREDIT", "ROLLBACK"]),
    "playerId": serializers.CharField(), "amountCents": serializers.IntegerField(),
    "currency": serializers.CharField(), "balanceCents": serializers.IntegerField(),
})
TRANSACTION_FIELDS: dict[str, serializers.Field] = {
    "transactionId": serializers.UUIDField(), "refId": serializers.CharField(),
    "type": serializers.ChoiceField(["DEBIT", "CREDIT", "ROLLBACK"]),
    "status": serializers.ChoiceField(["PENDING", "COMPLETED", "FAILED", "ROLLED_BACK"]),
    "playerId": serializers.CharField(), "amountCents": serializers.IntegerField(), "currency": serializers.CharField(),
    "balanceCents": serializers.IntegerField(allow_null=True), "errorCode": serializers.CharField(allow_null=True),
    "originalRefId": serializers.CharField(allow_null=True),
    "roundId": serializers.CharField(allow_null=True, help_text="A rollback shows its debit's round."),
    "roundClosed": serializers.BooleanField(help_text="This call closed its round."),
    "betRefId": serializers.CharField(allow_null=True),
    "kind": serializers.ChoiceField(CREDIT_KINDS, allow_null=True, help_text="Credits only."),
    "createdAt": serializers.DateTimeField(), "settledAt": serializers.DateTimeField(allow_null=True),
}
TRANSACTION = inline_serializer("WalletTransaction", TRANSACTION_FIELDS)
ROUND = inline_serializer("WalletRound", {
    "roundId": serializers.CharField(), "playerId": serializers.CharField(), "currency": serializers.CharField(),
    "status": serializers.ChoiceField(["OPEN", "CLOSED", "AUTO_CLOSED"]), "openedAt": serializers.DateTimeField(),
    "lastCallAt": serializers.DateTimeField(), "closedAt": serializers.DateTimeField(allow_null=True),
    "totals": inline_serializer("WalletRoundTotals", {
        "betCents": serializers.IntegerField(help_text="Debits COMPLETED (charged, not rolled back)."),
        "winCents": serializers.IntegerField(help_text="Credits COMPLETED, of every kind."),
        "rolledBackCents": serializers.IntegerField(help_text="Debits charged and refunded by a rollback."),
        "netCents": serializers.IntegerField(help_text="winCents - betCents: what the player gained."),
    }),
    "transactions": inline_serializer("WalletRoundTransaction", TRANSACTION_FIELDS, many=True),
})

COMMON_ERRORS = {
    400: error("VALIDATION_ERROR (every field in details), MISSING_IDEMPOTENCY_KEY or INVALID_IDEMPOTENCY_KEY"),
    401: error("UNAUTHORIZED: signature or timestamp missing or wrong (one body for every reason)"),
    409: error("DUPLICATE_REF_ID, ALREADY_ROLLED_BACK, or REQUEST_IN_PROGRESS (with Retry-After: 1)"),
    413: error("PAYLOAD_TOO_LARGE: body over 1 MiB"),
    422: error("IDEMPOTENCY_KEY_REUSED, or UNSUPPORTED_CURRENCY"),
    502: error("OPERATOR_REJECTED: a definite refusal by the Operator"),
    503: error("OPERATOR_UNAVAILABLE (with Retry-After): outcome unknown; retry with the same Idempotency-Key"),
}


ROUND_CONFLICTS = "ROUND_CLOSED (the round is closed), ROUND_MISMATCH (another player's or currency's round)"
CONFLICTS = {
    "debit": f"DUPLICATE_REF_ID, ALREADY_ROLLED_BACK, {ROUND_CONFLICTS}, or REQUEST_IN_PROGRESS (Retry-After: 1)",
    "credit": f"DUPLICATE_REF_ID, {ROUND_CONFLICTS}, BET_NOT_FOUND (betRefId names no charged debit of this player, "
              "currency and round), or REQUEST_IN_PROGRESS (Retry-After: 1; also while its bet is in flight)",
    "rollback": "ALREADY_ROLLED_BACK, BET_ALREADY_PAID (a credit has paid this debit), or REQUEST_IN_PROGRESS "
                "(Retry-After: 1; also while its debit, or a credit paying it, is in flight)",
}
EXAMPLES = {
    "debit": [OpenApiExample("a bet in a round", request_only=True, value={
        "playerId": "p1", "amountCents": 1234, "currency": "USD", "refId": "bet-1", "roundId": "round-1"})],
    "credit": [OpenApiExample("the round's win, closing it", request_only=True, value={
        "playerId": "p1", "amountCents": 2500, "currency": "USD", "refId": "win-1", "roundId": "round-1",
        "betRefId": "bet-1", "roundClosed": True, "kind": "WIN"})],
}
REQUESTS = {"debit": DEBIT_REQUEST, "credit": CREDIT_REQUEST, "rollback": ROLLBACK_REQUEST}


def wallet_operation(operation: str):
    responses = {201: OpenApiResponse(SUCCESS, description="Settled. A replay repeats the first answer byte for byte "
                                                           "with Idempotent-Replayed: true."), **COMMON_ERRORS}
    if operation == "debit":
        responses[402] = error("INSUFFICIENT_FUNDS (details.balanceCents)")
    responses[404] = error("PLAYER_NOT_FOUND" if operation != "rollback" else "ORIGINAL_NOT_FOUND")
    responses[409] = error(CONFLICTS[operation])
    return extend_schema(
        operation_id=f"wallet_{operation}", tags=["wallet"], summary=f"{operation.capitalize()} (signed, idempotent)",
        request=REQUESTS[operation], parameters=[*SIGNED, IDEMPOTENCY_KEY],
        responses=responses,
        examples=EXAMPLES.get(operation, []),
    )


wallet_transaction = extend_schema(
    operation_id="wallet_transaction", tags=["wallet"], summary="One transaction by refId (signed, empty body)",
    parameters=SIGNED, responses={200: TRANSACTION, 401: COMMON_ERRORS[401], 404: error("TRANSACTION_NOT_FOUND")},
)
wallet_round = extend_schema(
    operation_id="wallet_round", tags=["wallet"],
    summary="One round: its calls (rollbacks of its bets included) and totals (signed, empty body)",
    parameters=SIGNED, responses={200: ROUND, 401: COMMON_ERRORS[401], 404: error("ROUND_NOT_FOUND")},
)
wallet_balance = extend_schema(
    operation_id="wallet_balance", tags=["wallet"],
    summary="The player's balance, asked of the Operator every time (signed, empty body; never cached)",
    parameters=[*SIGNED,
                OpenApiParameter("playerId", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True),
                OpenApiParameter("currency", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True)],
    responses={
        200: inline_serializer("WalletBalance", {"status": serializers.CharField(), "playerId": serializers.CharField(),
                                                 "currency": serializers.CharField(),
                                                 "balanceCents": serializers.IntegerField()}),
        400: error("VALIDATION_ERROR: playerId and currency are required, nothing else"), 401: COMMON_ERRORS[401],
        404: error("PLAYER_NOT_FOUND"), 409: error("CURRENCY_MISMATCH: the player's wallet is in another currency"),
        422: error("UNSUPPORTED_CURRENCY"), 502: error("OPERATOR_REJECTED"),
        503: error("OPERATOR_UNAVAILABLE (Retry-After), or the database is unavailable"),
    },
)
