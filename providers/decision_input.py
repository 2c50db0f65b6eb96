"""The decision API's request bodies: read leniently (unknown fields ignored), refused with every problem."""

from decimal import Decimal
from typing import Any

from hub import errors
from providers.request_body import json_object

MAX_MESSAGE_CHARS = 500


def decision_command(action: str, body: bytes) -> dict[str, Any]:
    """The keyword arguments of `order_decide` a body carries; 400 with every problem otherwise, in the
    wallet's shape (`details`: each field and its messages, SPEC §3)."""
    payload = json_object(body)
    problems: dict[str, list[str]] = {}
    command: dict[str, Any] = {}
    if action == "accept" and payload.get("preparationMinutes") is not None:
        minutes = payload["preparationMinutes"]
        # the range before int(): hub.json_input bounds every number, and a small one converts at once
        if isinstance(minutes, bool) or not isinstance(minutes, int | Decimal) or not 1 <= minutes <= 120 \
                or minutes != int(minutes):
            problems["preparationMinutes"] = ["must be a whole number from 1 to 120"]
        else:
            command["preparation_minutes"] = int(minutes)
    if action == "reject":
        reason, message = payload.get("reason"), payload.get("message", "")
        if not isinstance(reason, str) or not reason:
            problems["reason"] = ["is required: one of the reject reasons"]
        if not isinstance(message, str) or len(message) > MAX_MESSAGE_CHARS:
            problems["message"] = [f"must be text of at most {MAX_MESSAGE_CHARS} characters"]
        command.update(reason=reason if isinstance(reason, str) else "", message=message if isinstance(message, str) else "")
    if problems:
        raise errors.ValidationFailed(details=problems)
    return command
