"""The one place where intake results become the providers' HTTP answers (SPEC §7).

Accepted and duplicate requests get the provider-facing success body (Delivery Hero's POS plugin
contract: 202 with `remoteOrderId`; Uber Eats: 200 with an empty body), invalid ones 422 with every error, and a request kept as
`failed` 503 with Retry-After. Refusals before processing are `hub.errors.ApplicationError`s,
rendered by `hub.exception_handlers` in the hub's error shape.
"""

from typing import TYPE_CHECKING, Any

from django.http import HttpResponse, JsonResponse

from hub import errors
from providers.models import InboundWebhook

if TYPE_CHECKING:  # the intake service imports intake_status from here
    from providers.intake import IntakeResult

Outcome = InboundWebhook.Outcome
FAILED_RETRY_AFTER_SECONDS = 30


def intake_status(outcome: str, plugin_dispatch: bool = False) -> int:
    """The status code an outcome is answered with (also stored on its audit row)."""
    if outcome == Outcome.INVALID:
        return 422
    if outcome == Outcome.FAILED:
        return errors.ServiceUnavailable.status_code
    return 202 if plugin_dispatch else 200


def _body(result: "IntakeResult") -> tuple[dict[str, Any], dict[str, str]]:
    webhook_id = str(result.webhook_id) if result.webhook_id else None
    order_id = str(result.order_id) if result.order_id else None
    if result.outcome == Outcome.INVALID:
        return {"success": False, "errors": result.problems}, {}
    if result.outcome == Outcome.FAILED:
        error = errors.ServiceUnavailable(
            "The webhook could not be processed now; it is kept and will be reprocessed. Retrying is safe.",
            code="PROCESSING_FAILED", details={"webhookId": webhook_id},
            headers={"Retry-After": str(FAILED_RETRY_AFTER_SECONDS)},
        )
        return error.as_body(), error.headers
    if result.outcome == Outcome.ACCEPTED and result.plugin_dispatch:
        return {"remoteOrderId": order_id}, {}
    processed: dict[str, Any] = {"success": True, "webhookId": webhook_id, "status": "processed"}
    if result.outcome == Outcome.DUPLICATE:
        processed = {"success": True, "duplicate": True, **processed}
        if result.plugin_dispatch:
            processed["remoteOrderId"] = order_id
    return processed, {}


def intake_response(result: "IntakeResult") -> HttpResponse:
    if result.empty_answer and result.outcome in {Outcome.ACCEPTED, Outcome.DUPLICATE}:
        return HttpResponse(b"", status=200, content_type="text/plain")
    body, headers = _body(result)
    response = JsonResponse(body, status=intake_status(result.outcome, result.plugin_dispatch))
    for name, value in headers.items():
        response[name] = value
    return response
