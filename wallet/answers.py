"""The one place where wallet outcomes become the RGS's HTTP answers (status, headers, body bytes).

A settlement's answer is rendered once, stored with its transaction (and under the request's
Idempotency-Key) and replayed byte for byte from there; refusals that settle nothing are rendered
when they happen and not kept.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse

from hub import errors, metrics
from wallet.models import WalletTransaction


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False


def to_json(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))


def error_answer(error: errors.ApplicationError) -> Answer:
    return Answer(error.status_code, to_json(error.as_body()), error.headers)


def settled_answer(tx: WalletTransaction, *, error: errors.ApplicationError | None, currency: str,
                   balance_minor: int | None) -> Answer:
    """What the RGS is told when the transaction settles: 201 with the balance, or the refusal."""
    if error is not None:
        return error_answer(error)
    return Answer(201, to_json({
        "status": "OK", "transactionId": str(tx.transaction_id), "refId": tx.ref_id, "type": tx.type,
        "playerId": tx.player_id, "amountCents": tx.amount_cents, "currency": currency, "balanceCents": balance_minor,
    }))


def replayed_answer(*, status: int, body: str) -> Answer:
    return Answer(status, body, replayed=True)


def http_response(answer: Answer, *, operation: str) -> HttpResponse:
    response = HttpResponse(answer.body.encode(), status=answer.status, content_type="application/json")
    for name, value in answer.headers.items():
        response[name] = value
    if answer.replayed:
        response["Idempotent-Replayed"] = "true"
    code = json.loads(answer.body).get("status", "") if answer.body else ""
    metrics.WALLET_OUTCOMES.labels(operation, code, str(answer.replayed).lower()).inc()
    return response


def transaction_response(view: dict[str, Any]) -> HttpResponse:
    return HttpResponse(to_json(view).encode(), content_type="application/json")
